"""Signing benchmark: one signature with a passphrase-held key (key derivation included), and a batch of 60.

    .venv/bin/python bench/signing.py [--runs 10] [--batch 60]

Prepares transcripts waiting for the head of the Registrar office's signature (group batches: numbered,
generated), then measures
- one signature: `task_sign` as the signer submits it — Argon2id derivation of the passphrase key, opening the
  key, the PAdES signature of a ~20-discipline transcript, completing the task and issuing (registry, notice);
- a batch: `batch_sign_start` with one passphrase entry, and the job that signs each task run by a real
  `celery worker` as the Procfile starts it (prefork, --concurrency=2, QUJAT_JOB_RUNNERS=2) on Redis; wall
  time from the request to the job's end, and the worker's CPU time (from /proc).
Uses DATABASE_URL when set (a `<name>_signing` database is created and dropped), otherwise SQLite; Redis at
QUJAT_BENCH_REDIS_URL (default redis://127.0.0.1:6379/15, emptied first). Targets: ≤ 0.3 s per document,
≥ 5 documents/s for the batch. Prints medians; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from database import ROOT, bench_database, converter_running, setup_django


def prepare(count: int) -> list[int]:
    """At least `count` transcripts waiting for registrar_head1's signature, generated (one batch per group)."""
    from backend.academics.models import Student
    from backend.accounts.models import User
    from backend.documents.models import GeneratedDocument
    from backend.documents.services import document_generate
    from backend.transcripts.services import batch_create, batch_run
    from backend.workflow.models import HumanTask

    staff = User.objects.get(username="registrar_staff1")
    waiting = HumanTask.objects.filter(spec_id="sign_registrar", status="open")
    groups = list(Student.objects.values_list("group_id", flat=True).order_by("group_id").distinct())
    rounds = 0
    while waiting.count() < count and rounds < 5:  # the demo has 60 students: a second round if more are needed
        rounds += 1
        for group_id in groups:
            if waiting.count() >= count:
                break
            batch = batch_create(group_id=group_id, kind="standard", language="ru", reason="benchmark", user=staff)
            batch_run(batch_id=batch.pk)
    # The transcripts are generated as the Celery worker would, before anything is measured: a task whose
    # document is still pending is refused ("still being generated"), which is not what is measured here.
    pending = GeneratedDocument.objects.filter(status=GeneratedDocument.Status.PENDING).values_list("pk", flat=True)
    for document_id in list(pending):
        document_generate(document_id=document_id)
    return list(waiting.order_by("pk").values_list("pk", flat=True))[:count]


PASSPHRASE = "demo"  # noqa: S105 - the demo signers' documented passphrase


def start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    """`celery worker` as the Procfile starts it, on this benchmark's database and Redis; ready when its pool is."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="backend.config.settings.test", CELERY_TASK_ALWAYS_EAGER="0")
    log = Path(os.environ["QUJAT_VAR_DIR"]) / "worker.log"
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "backend.config", "worker", "--pool=prefork"),
            *(f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--loglevel=WARNING"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while len(_children(worker.pid)) < concurrency:
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"the celery worker did not start; see {log}")
        time.sleep(0.2)
    time.sleep(1.0)  # the pool processes import the project before they take a task
    return worker


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


def worker_cpu(worker: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) of the worker's main and pool processes so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [worker.pid, *_children(worker.pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool processes (Procfile: 2)")
    args = parser.parse_args()
    # A Redis database of its own: a test run sharing one clears it before every test (tests/conftest.py), and
    # with it the batch's signing session. The worker shares this process's key-encryption key, as web and
    # workers of one deployment do.
    os.environ["REDIS_URL"] = os.environ.get("QUJAT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    subprocess.run(["redis-cli", "-u", os.environ["REDIS_URL"], "flushdb"], check=True, capture_output=True)
    os.environ.setdefault("QUJAT_KEY_ENCRYPTION_KEY", secrets.token_urlsafe(48))
    os.environ["QUJAT_JOB_RUNNERS"] = str(args.concurrency)
    with bench_database("signing") as database:
        setup_django()
        with converter_running():
            run(args, database)


def run(args: argparse.Namespace, database: str) -> None:
    from backend.accounts.models import User
    from backend.core.models import Job
    from backend.signatures.batch import batch_sign_start
    from backend.signatures.task_signing import task_sign

    print(
        f"Qujat signing benchmark — {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, database: {database}, load average {_load()}"
    )
    tasks = prepare(args.runs + 1 + args.batch)
    head = User.objects.get(username="registrar_head1")
    singles, batch = tasks[: args.runs + 1], tasks[args.runs + 1 :]
    task_sign(task_id=singles[0], user=head, passphrase=PASSPHRASE, data={"confirm": True})  # warm caches
    times, cpu = [], []
    for task_id in singles[1:]:
        began, began_cpu = time.perf_counter(), time.process_time()
        task_sign(task_id=task_id, user=head, passphrase=PASSPHRASE, data={"confirm": True})
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    ordered = sorted(times)
    print(f"one signature, passphrase → Argon2id → key → PAdES → task completed, issued ({len(times)} runs):")
    print(
        f"    median {statistics.median(times):.3f} s, min {ordered[0]:.3f} s, max {ordered[-1]:.3f} s "
        "(target ≤ 0.3 s); "
        f"CPU time of this process: median {statistics.median(cpu):.3f} s"
    )
    from django.db import connections, transaction

    from backend.config.celery import app

    app.control.purge()  # what the preparation queued (its own jobs, notices) is done or not measured
    connections.close_all()
    worker = start_worker(args.concurrency)
    try:
        cpu_before = worker_cpu(worker)
        began = time.perf_counter()
        with transaction.atomic():  # as the request does: the job is sent to the workers when this commits
            job = batch_sign_start(user=head, task_ids=batch, passphrase=PASSPHRASE)
        while not Job.objects.get(pk=job.pk).finished:
            time.sleep(0.02)
        elapsed = time.perf_counter() - began
        worker_seconds = worker_cpu(worker) - cpu_before
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    job = Job.objects.get(pk=job.pk)
    print(
        f"batch: {job.done} of {job.total} signed with one passphrase entry in {elapsed:.1f} s "
        f"= {job.done / elapsed:.2f} documents/s ({elapsed / max(job.done, 1):.3f} s each; target ≥ 5/s), "
        f"failed: {job.failed}; celery worker with {args.concurrency} pool processes, their CPU time "
        f"{worker_seconds:.1f} s = {worker_seconds / max(job.done, 1):.3f} s per document"
    )
    print(f"load average at the end: {_load()}")
    for item in job.items.filter(status="failed").order_by("position"):
        print(f"    failed: {item.label.get('en', item.key)}: {item.message}")


if __name__ == "__main__":
    main()
