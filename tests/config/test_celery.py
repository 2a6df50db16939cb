"""Celery runs for real: a worker takes tasks from the embedded filesystem broker or from Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_worker_roundtrip(env: dict[str, str]) -> str:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backend.config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = "import django; django.setup();from backend.core.tasks import ping;print(ping.delay().get(timeout=60))"
        client = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
        )
        assert client.returncode == 0, client.stderr
        return client.stdout.strip()
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="backend.config.settings.local", QUJAT_VAR_DIR=str(tmp_path))
    return env


def test_a_worker_takes_a_task_from_the_embedded_filesystem_broker(tmp_path: Path) -> None:
    assert run_worker_roundtrip(base_env(tmp_path)) == "pong"
    assert (tmp_path / "celery" / "queue").is_dir()


@pytest.mark.redis
def test_a_worker_takes_a_task_from_redis(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["REDIS_URL"] = os.environ["REDIS_URL"]
    assert run_worker_roundtrip(env) == "pong"
