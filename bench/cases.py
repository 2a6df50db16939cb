"""Cases benchmark: the auditor's list among 100,000 cases and 1,000,000 history events, a 300-event case page,
its integrity check and its evidence package, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/cases.py [--runs 100] [--keep]

A database `<name>_cases_bench` is created next to DATABASE_URL's and dropped afterwards; with --keep it is
kept, and a later run with --keep reuses it as it is (migrated again, not seeded again). Bulk cases and their
hash-chained events are seeded with COPY (each chain is real: the integrity check passes on every case); the
300-event case is walked through the engine for real (a request returned 50 times). Requests are timed in-process
with Django's test Client (server time: routing, middleware, queries, templates; no network) after warm-up.
Nothing here is asserted; medians and 95th percentiles are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.database import bench_database, setup_django  # noqa: E402

DIAGRAM = ROOT / "tests" / "workflow" / "engine_test.bpmn"
CASES = 100_000
EVENTS_PER_CASE = 10


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000


def timed(call: Any, runs: int, warm: int = 3) -> tuple[float, float]:
    for _ in range(warm):
        call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return ms(samples)


@contextmanager
def kept_database(suffix: str) -> Iterator[str]:
    """The benchmark's database, created if missing and left in place (with its files) for the next run."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://… (the benchmark is about PostgreSQL).")
    base, _, name = url.rpartition("/")
    bench_name = f"{name}_{suffix}"
    with psycopg.connect(url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{bench_name}"')
    os.environ["DATABASE_URL"] = f"{base}/{bench_name}"
    var = Path(tempfile.gettempdir()) / f"qujat-{bench_name}"
    os.environ["QUJAT_VAR_DIR"] = str(var)
    os.environ.setdefault("QUJAT_ENV_FILE", "/nonexistent")
    # The keys the kept database stores are wrapped under this benchmark's own key-encryption key, kept beside it.
    kek = var / "key-encryption-key"
    if not kek.exists():
        var.mkdir(parents=True, exist_ok=True)
        kek.write_text(secrets.token_urlsafe(48))
    os.environ["QUJAT_KEY_ENCRYPTION_KEY"] = kek.read_text()
    yield f"PostgreSQL ({bench_name}, kept)"


def setup_kept() -> None:
    """As bench.database.setup_django, with the demo university seeded only the first time."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.test"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from backend.accounts.models import OrgUnit
    from backend.demo.seed import seed_demo

    if not OrgUnit.objects.filter(code="university").exists():
        seed_demo()


def seed_bulk(url: str) -> None:
    """100,000 finished or running cases with 10 chained events and one completed task each."""
    import psycopg

    from backend.accounts.models import OrgUnit, User
    from backend.workflow.models import ProcessDefinition
    from signing.evidence import GENESIS, event_hash

    rng = random.Random(15)
    definition = ProcessDefinition.objects.get(key="qujat_engine_test")
    people = list(User.objects.values_list("pk", flat=True))
    units = list(OrgUnit.objects.filter(kind="department").values_list("pk", flat=True))
    now = datetime.now(UTC)
    kinds = ["started", "task_created", "claimed", "completed", "task_created", "commented", "completed"]
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_processinstance")
        first = cur.fetchone()[0] + 1  # type: ignore[index]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_humantask")
        next_task = cur.fetchone()[0] + 1  # type: ignore[index]
        instances, events, tasks = [], [], []
        for n in range(CASES):
            pk = first + n
            started = now - timedelta(days=rng.uniform(0, 700), seconds=n)
            requester, actor = rng.choice(people), rng.choice(people)
            running = rng.random() < 0.2
            prev = GENESIS
            for seq in range(1, EVENTS_PER_CASE + 1):
                kind = "finished" if seq == EVENTS_PER_CASE and not running else kinds[(seq - 1) % len(kinds)]
                at = started + timedelta(hours=seq)
                at_text = at.isoformat(timespec="microseconds")
                payload = {"task": next_task} if kind != "started" else {"process": definition.key}
                digest = event_hash(
                    instance_id=pk, seq=seq, kind=kind, actor_id=actor, at=at_text, payload=payload, prev=prev
                )
                events.append((pk, seq, kind, actor, at, json.dumps(payload), prev, digest))
                prev = digest
            status = "running" if running else rng.choice(["completed"] * 8 + ["cancelled", "error"])
            number = f"ET-{started.year}-{pk:06d}"
            subject = json.dumps({"en": f"Request {n}", "ru": f"Заявка {n}", "kk": f"Өтінім {n}"}, ensure_ascii=False)
            instances.append(
                (
                    pk,
                    definition.pk,
                    definition.key,
                    status,
                    # A stage for every case (as the engine gives one), so no migration tries to work it out.
                    "in_progress" if status == "running" else status,
                    number,
                    subject,
                    requester,
                    started,
                    started + timedelta(hours=EVENTS_PER_CASE),
                    None if running else started + timedelta(hours=EVENTS_PER_CASE),
                    EVENTS_PER_CASE,
                    prev,
                )
            )
            tasks.append(
                (
                    next_task,
                    pk,
                    uuid.uuid4(),
                    "review",
                    definition.key,
                    json.dumps({"en": "Head's review"}),
                    "department_head",
                    rng.choice(units),
                    "completed",
                    started,
                    actor,
                    started + timedelta(hours=5),
                    requester,
                    subject,
                )
            )
            next_task += 1
        with cur.copy(
            "COPY workflow_processinstance (id, definition_id, process_key, status, stage, number, subject, "
            "started_by_id, started_at, updated_at, completed_at, history_count, history_head, business_key, "
            "state, data, version, incident, state_segments) FROM STDIN"
        ) as copy:
            for row in instances:
                copy.write_row((*row, "", "{}", "{}", 1, "", 0))
        with cur.copy(
            "COPY workflow_historyevent (instance_id, seq, kind, actor_id, at, payload, prev_hash, hash) FROM STDIN"
        ) as copy:
            for row in events:
                copy.write_row(row)
        with cur.copy(
            "COPY workflow_humantask (id, instance_id, engine_task_id, spec_id, process_key, title, role, org_unit_id, "
            "status, created_at, completed_by_id, completed_at, requester_id, subject, lane, priority, "
            "submitted_data, search_text) FROM STDIN"
        ) as copy:
            for row in tasks:
                copy.write_row((*row, "department_head", 0, "{}", ""))
        cur.execute(f"SELECT setval(pg_get_serial_sequence('workflow_processinstance', 'id'), {first + CASES})")
        cur.execute(f"SELECT setval(pg_get_serial_sequence('workflow_humantask', 'id'), {next_task})")
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('workflow_historyevent', 'id'), "
            "(SELECT MAX(id) FROM workflow_historyevent))"
        )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")


def long_case() -> Any:
    """A real case walked through the engine until it holds 300 events (the head returns it again and again)."""
    from backend.accounts.models import User
    from backend.workflow import services
    from backend.workflow.models import HumanTask, ProcessInstance

    teacher, head = User.objects.get(username="teacher1"), User.objects.get(username="department_head1")

    def task(instance: ProcessInstance, spec: str) -> int:
        return HumanTask.objects.get(instance=instance, spec_id=spec, status="open").pk

    start = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}
    instance = services.instance_start(process_key="qujat_engine_test", user=teacher, data=start)
    services.task_complete(task_id=task(instance, "write"), user=teacher, data={"title": "Journal", "days": 1})
    while True:
        instance.refresh_from_db()
        if instance.history_count >= 296:
            break
        services.task_complete(
            task_id=task(instance, "review"), user=head, data={"decision": "return", "comment": "Once more"}
        )
        services.task_complete(task_id=task(instance, "write"), user=teacher, data={"title": "Journal", "days": 2})
    services.task_complete(task_id=task(instance, "review"), user=head, data={"decision": "approve"})
    instance.refresh_from_db()
    return instance


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and reuse it next time")
    args = parser.parse_args()
    with (kept_database if args.keep else bench_database)("cases_bench") as where:
        if not where.startswith("PostgreSQL"):
            raise SystemExit("Set DATABASE_URL=postgres://… (the benchmark is about PostgreSQL).")
        if args.keep:
            setup_kept()
        else:
            setup_django()
        from django.test import Client

        from backend.accounts.models import User
        from backend.cases.evidence import evidence_package
        from backend.workflow.deployment import deploy_file
        from backend.workflow.history import instance_broken_chain
        from backend.workflow.models import HistoryEvent, ProcessInstance

        deploy_file(DIAGRAM)
        began = time.perf_counter()
        if ProcessInstance.objects.count() < CASES:
            seed_bulk(os.environ["DATABASE_URL"])
        seeded = time.perf_counter() - began
        case = ProcessInstance.objects.filter(history_count__gte=296).first() or long_case()
        cases, events = ProcessInstance.objects.count(), HistoryEvent.objects.count()
        client = Client()
        client.force_login(User.objects.get(username="auditor1"))
        some = ProcessInstance.objects.order_by("?").values_list("number", flat=True)[:1][0]
        print(
            f"{where}; {cases:,} cases, {events:,} events (seeded in {seeded:.0f} s); {platform.node()}, "
            f"{os.cpu_count()} CPUs, load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}; "
            f"{args.runs} runs each, after warm-up"
        )
        print(f"the long case {case.number}: {case.history_count} events")

        def get(path: str, params: dict[str, str] | None = None) -> Any:
            return lambda: client.get(path, params or {})

        rows = [
            ("list page, newest first", get("/cases/")),
            ("list API, newest first", get("/api/cases/")),
            ("list API, by whole number", get("/api/cases/", {"number": some})),
            ("list API, by person (teacher3)", get("/api/cases/", {"person": "teacher3"})),
            (
                "list API, completed, 2025, by number",
                get(
                    "/api/cases/",
                    {"status": "completed", "started_from": "2025-01-01", "started_to": "2025-12-31", "sort": "number"},
                ),
            ),
            ("list API, page 200", get("/api/cases/", {"page": "200"})),
            (f"case page, {case.history_count} events", get(f"/cases/{case.number}/")),
            (f"case API, {case.history_count} events", get(f"/api/cases/{case.number}/")),
            (f"integrity check, {case.history_count} events", lambda: instance_broken_chain(case)),
        ]
        for label, call in rows:
            median, p95 = timed(call, args.runs)
            print(f"  {label:45s} median {median:7.1f} ms   p95 {p95:7.1f} ms")
        median, p95 = timed(lambda: evidence_package(case), max(5, args.runs // 10), warm=1)
        print(f"  {'evidence package (ZIP, signed manifest)':45s} median {median:7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
