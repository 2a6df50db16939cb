"""Settings come from the environment; production refuses unsafe ones."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_value(module: str, expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "QUJAT_DEMO"}
    }
    clean.update(
        env, DJANGO_SETTINGS_MODULE=module, QUJAT_VAR_DIR="/tmp/qujat-settings-test", QUJAT_ENV_FILE="/nonexistent"
    )
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_production_refuses_debug() -> None:
    result = settings_value(
        "backend.config.settings.production",
        "settings.DEBUG",
        DEBUG="true",
        SECRET_KEY="x" * 60,
        QUJAT_KEY_ENCRYPTION_KEY="k" * 40,
    )
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_refuses_the_default_secret_key() -> None:
    result = settings_value("backend.config.settings.production", "settings.DEBUG", QUJAT_KEY_ENCRYPTION_KEY="k" * 40)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_real_secrets() -> None:
    result = settings_value(
        "backend.config.settings.production",
        "settings.DEBUG",
        SECRET_KEY="s" * 60,
        QUJAT_KEY_ENCRYPTION_KEY="k" * 40,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_with_nothing_set_the_embedded_default_uses_sqlite_files_and_a_filesystem_broker() -> None:
    result = settings_value(
        "backend.config.settings.local",
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.EMAIL_BACKEND, "
        "settings.CACHES['default']['BACKEND']",
    )
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout
    assert "filesystem://" in result.stdout
    assert "filebased.EmailBackend" in result.stdout
    assert "FileBasedCache" in result.stdout


def test_urls_switch_to_postgresql_and_redis() -> None:
    result = settings_value(
        "backend.config.settings.local",
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.CELERY_RESULT_BACKEND, "
        "settings.CACHES['default']['BACKEND']",
        DATABASE_URL="postgres://u@db:5432/qujat",
        REDIS_URL="redis://cache:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout
    assert result.stdout.count("redis://cache:6379/0") == 2
    assert "RedisCache" in result.stdout


def test_the_embedded_sqlite_database_runs_in_wal_mode() -> None:
    result = settings_value(
        "backend.config.settings.local",
        "__import__('django.db').db.connection.cursor().execute('PRAGMA journal_mode').fetchone()[0]",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_the_embedded_default_deploys_on_migrate_shows_no_debug_pages_and_allows_demo_data() -> None:
    result = settings_value(
        "backend.config.settings.local", "settings.QUJAT_DEPLOY_ON_MIGRATE, settings.DEBUG, settings.QUJAT_DEMO"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True"]


def test_production_refuses_demo_logins() -> None:
    result = settings_value(
        "backend.config.settings.production",
        "settings.DEBUG",
        SECRET_KEY="s" * 60,
        QUJAT_KEY_ENCRYPTION_KEY="k" * 40,
        QUJAT_DEMO="true",
    )
    assert result.returncode != 0
    assert "QUJAT_DEMO" in result.stderr
