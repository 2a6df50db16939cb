"""A fresh database for a benchmark run: DATABASE_URL's server with a `_bench` database, or a SQLite file."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextmanager
def bench_database(suffix: str = "bench") -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    var = tempfile.mkdtemp(prefix="qujat-bench-")
    os.environ["QUJAT_VAR_DIR"] = var
    os.environ.setdefault("QUJAT_ENV_FILE", "/nonexistent")
    if url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        bench_name = f"{name}_{suffix}"
        admin = psycopg.connect(url, autocommit=True)
        admin.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        admin.execute(f'CREATE DATABASE "{bench_name}"')
        os.environ["DATABASE_URL"] = f"{base}/{bench_name}"
        try:
            yield f"PostgreSQL ({bench_name})"
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{var}/bench.sqlite3"
        yield "SQLite (WAL, file)"


def setup_django() -> None:
    """Test settings (no debug, fast password hashing), migrated, with the demo university."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.test"
    # Background work (notifications, documents) goes to the broker as in production, not into the measured call.
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from backend.demo.seed import seed_demo

    seed_demo()


@contextmanager
def converter_running() -> Iterator[bool]:
    """The configured converter; started as a child (`manage.py run_converter`) for the benchmark if none
    answers, and stopped afterwards. Yields whether it was started here."""
    import signal
    import subprocess
    import time

    from backend.documents.converter import converter_ready

    if converter_ready():
        yield False
        return
    process = subprocess.Popen([sys.executable, "manage.py", "run_converter"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not converter_ready():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the converter did not start")
            time.sleep(0.5)
        yield True
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
