"""Real faults: a Celery worker subprocess on Redis that the tests kill, and database connections they terminate.

The worker runs the test settings against the test database (its transactions really commit: the tests use
`transactional_demo`), takes tasks from the Redis database of REDIS_URL and converts with the tests' converter.
Every wait is bounded; a worker left behind is killed when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 300
WORKER_CONNECTIONS = "qujat-faults-worker"  # the application_name of the worker's database connections


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll until the condition holds (bounded: fails the test after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.05)


class Worker:
    """`celery worker` as an operator runs it (prefork pool), in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int) -> None:
        self.env, self.log, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backend.config",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                f"--hostname=faults-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: len(self.pool()) >= self.concurrency, "the worker's pool processes", timeout=120)
        return self

    def pool(self) -> list[int]:
        """The pids of the worker's pool processes (the children of its main process)."""
        if self.process is None or self.process.poll() is not None:
            return []
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def kill_pool_process(self) -> int:
        """SIGKILL one pool process, as the OOM killer does; the main process starts another."""
        [victim, *_rest] = self.pool()
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool, nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Where this test's worker and the test itself store generated files."""
    settings.MEDIA_ROOT = tmp_path / "var" / "media"  # the worker's, under its QUJAT_VAR_DIR
    settings.MEDIA_ROOT.mkdir(parents=True)
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def celery_on_redis() -> Iterator[None]:
    """Tasks go to Redis for real (not eagerly), on a queue emptied before and after the test."""
    from backend.config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        yield
    finally:
        app.control.purge()
        app.conf.task_always_eager = previous


@pytest.fixture
def worker_factory(media: Path, tmp_path: Path, celery_on_redis: None) -> Iterator[Callable[..., Worker]]:
    settings_dict = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.config.settings.test",
        CELERY_TASK_ALWAYS_EAGER="0",
        DATABASE_URL=(
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}?application_name={WORKER_CONNECTIONS}"
        ),
        QUJAT_VAR_DIR=str(tmp_path / "var"),
        CONN_MAX_AGE="0",
        # Web and workers of one deployment share the key-encryption key (batch signing opens keys in the worker).
        QUJAT_KEY_ENCRYPTION_KEY=django_settings.QUJAT_KEY_ENCRYPTION_KEY,
    )
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    started: list[Worker] = []

    def start(concurrency: int = 1) -> Worker:
        worker = Worker(env, tmp_path / "worker.log", concurrency).start()
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


class Terminator:
    """Terminates the worker's connections to the test database at an interval (pg_terminate_backend)."""

    def __init__(self, interval: float) -> None:
        self.interval, self.terminated = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        settings_dict = connection.settings_dict
        with psycopg.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=settings_dict["PORT"] or 5432,
            user=settings_dict["USER"],
            password=settings_dict.get("PASSWORD") or None,
            dbname=settings_dict["NAME"],
            autocommit=True,
        ) as admin:
            while not self._stop.wait(self.interval):
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [WORKER_CONNECTIONS],
                ).fetchall()
                self.terminated += sum(1 for (done,) in rows if done)

    def __enter__(self) -> Terminator:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
