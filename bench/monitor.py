"""Process monitor benchmark: 200,000 cases and 1,000,000 tasks (100,000 open) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/monitor.py [--runs 100]

A database named qujat_bench_monitor is created next to DATABASE_URL's and dropped afterwards (--keep keeps it,
--reuse measures a kept one again). Cases, tasks, candidates and the monitor's rollups (CaseFact, TaskFact)
are seeded with COPY over the three deployed processes, then their per-day and per-month summaries are built
(timed); the rollup refresh itself is timed separately on 20,000 fresh tasks. Each request is timed
in-process with Django's test Client (server time), after warm-up, for a one-year period as registrar_head1;
medians and 95th percentiles are printed with the machine's load average. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import inbox as inbox_bench  # noqa: E402
from inbox import bench_database, median_ms, p95_ms  # noqa: E402

BENCH_DB = "qujat_bench_monitor"
inbox_bench.BENCH_DB = BENCH_DB
CASES = 200_000
TASKS = 1_000_000
OPEN = 100_000
SHARES = {"transcript_issuance": 0.5, "journal_reopen": 0.4, "login_request": 0.1}
HOUR = 3600.0


def setup_django(*, migrate: bool) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.test"
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        from backend.demo.seed import seed_demo

        call_command("migrate", verbosity=0)
        seed_demo()


def seed(url: str) -> float:
    """Cases over the past year in every department; tasks of the real steps; open ones at the running cases."""
    import psycopg

    from backend.accounts.models import OrgUnit, User
    from backend.monitor.facts import process_target
    from backend.monitor.worktime import DAY, WorkCalendar
    from backend.workflow.models import ProcessDefinition

    rng = random.Random(17)
    began = time.perf_counter()
    now = datetime.now(UTC)
    units = list(OrgUnit.objects.filter(kind__in=["department", "school"]).values_list("pk", "code"))
    people = list(User.objects.filter(is_active=True).values_list("pk", flat=True))
    definitions = {}
    for key in SHARES:
        definition = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        assert definition is not None
        specs = [(spec, info.get("lane", "")) for spec, info in definition.routing["tasks"].items()]
        definitions[key] = (definition, specs)
    keys = list(SHARES)
    weights = list(SHARES.values())
    open_cases = OPEN // 2
    calendar = WorkCalendar((now - timedelta(days=400)).date(), (now + timedelta(days=60)).date())
    targets = {key: process_target(key) for key in SHARES}
    finished_tasks_per_case = (TASKS - OPEN) / (CASES - open_cases)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_processinstance")
        first_case = cur.fetchone()[0] + 1  # type: ignore[index]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_humantask")
        task_id = cur.fetchone()[0]  # type: ignore[index]
        cases, facts, tasks, task_facts, candidates = [], [], [], [], []
        for n in range(CASES):
            case_id = first_case + n
            key = rng.choices(keys, weights)[0]
            definition, specs = definitions[key]
            unit_id, unit_code = rng.choice(units)
            running = n < open_cases
            started = now - timedelta(days=rng.uniform(0, 40 if running else 365), hours=rng.uniform(0, 24))
            e2e = rng.lognormvariate(3.3, 0.6) * HOUR  # working seconds, median ≈ 27 h
            status = "running" if running else rng.choices(["completed", "cancelled"], [0.95, 0.05])[0]
            finished = None if running else started + timedelta(seconds=e2e * 1.4)
            sop_days, _working = targets[key]
            due_at = calendar.add_seconds(started, sop_days * DAY) if running and sop_days else None
            cases.append((case_id, definition.pk, key, status, started, finished, unit_code))
            facts.append(
                (
                    case_id,
                    key,
                    definition.version,
                    unit_id,
                    status,
                    started,
                    finished,
                    e2e if status == "completed" else None,
                    (e2e <= 3 * 86400) if status == "completed" else None,
                    due_at,
                    now,
                )
            )
            count = 2 if running else max(1, round(rng.gauss(finished_tasks_per_case, 1.5)))
            moment = started
            seen: dict[str, int] = {}
            for index in range(count):
                spec, lane = rng.choice(specs)
                task_id += 1
                wait = rng.lognormvariate(2.0, 0.9) * HOUR
                due = moment + timedelta(days=2)
                is_open = running and index in (0, count - 1)
                completed = None if is_open else moment + timedelta(seconds=wait * 1.3)
                assignee = rng.choice(people) if not is_open or rng.random() < 0.5 else None
                if is_open:
                    moment_open = now - timedelta(hours=rng.uniform(1, 100))
                    due = moment_open + timedelta(hours=48)
                    tasks.append((task_id, case_id, spec, key, lane, "open", moment_open, due, assignee, None))
                    candidates.append((task_id, assignee or rng.choice(people)))
                else:
                    tasks.append((task_id, case_id, spec, key, lane, "completed", moment, due, assignee, completed))
                    loop = seen.get(spec, 0)
                    seen[spec] = loop + 1
                    task_facts.append(
                        (
                            task_id,
                            case_id,
                            key,
                            definition.version,
                            spec,
                            lane,
                            unit_id,
                            "completed",
                            moment,
                            completed,
                            assignee,
                            wait,
                            wait * rng.uniform(0.2, 0.9),
                            48 * HOUR,
                            wait <= 48 * HOUR,
                            loop,
                        )
                    )
                    moment = completed or moment
        with cur.copy(
            "COPY workflow_processinstance (id, definition_id, process_key, status, stage, business_key, subject, "
            "state, state_segments, data, started_at, updated_at, completed_at, version, incident, history_count, "
            "history_head) "
            "FROM STDIN"
        ) as copy:
            for case_id, definition_id, key, status, started, finished, unit_code in cases:
                copy.write_row(
                    (
                        case_id,
                        definition_id,
                        key,
                        status,
                        # A stage for every case (as the engine gives one), so no migration tries to work it out.
                        "in_progress" if status == "running" else status,
                        f"B-{case_id}",
                        '{"ru": "Бенчмарк"}',
                        "{}",
                        0,
                        f'{{"department": "{unit_code}"}}',
                        started,
                        finished or started,
                        finished,
                        1,
                        "",
                        0,
                        "0" * 64,
                    )
                )
        with cur.copy(
            "COPY workflow_humantask (id, instance_id, engine_task_id, spec_id, process_key, title, lane, role, "
            "status, created_at, due_at, priority, assignee_id, completed_at, submitted_data, subject, search_text) "
            "FROM STDIN"
        ) as copy:
            for tid, case_id, spec, key, lane, status, created, due, assignee, completed in tasks:
                copy.write_row(
                    (
                        tid,
                        case_id,
                        uuid.uuid4(),
                        spec,
                        key,
                        f'{{"en": "{spec}"}}',
                        lane,
                        lane,
                        status,
                        created,
                        due,
                        0,
                        assignee,
                        completed,
                        "{}",
                        '{"ru": "Бенчмарк"}',
                        "",
                    )
                )
        with cur.copy("COPY workflow_taskcandidate (task_id, user_id, is_open) FROM STDIN") as copy:
            for tid, user_id in candidates:
                copy.write_row((tid, user_id, True))
        with cur.copy(
            "COPY monitor_casefact (instance_id, process_key, version, unit_id, status, started_at, finished_at, "
            "e2e_seconds, within_sop, due_at, refreshed_at) FROM STDIN"
        ) as copy:
            for row in facts:
                copy.write_row(row)
        with cur.copy(
            "COPY monitor_taskfact (task_id, instance_id, process_key, version, spec_id, role, unit_id, status, "
            "created_at, completed_at, completed_by_id, wait_seconds, claim_seconds, due_seconds, on_time, loop) "
            "FROM STDIN"
        ) as copy:
            for row in task_facts:
                copy.write_row(row)
        for table in ("workflow_processinstance", "workflow_humantask"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608
        cur.execute("ANALYZE")
        conn.commit()
    return time.perf_counter() - began


def build_summaries() -> float:
    """What the refresh keeps up day by day, for the whole seeded year at once."""
    from django.db import connection, transaction
    from django.utils import timezone

    from backend.monitor.summaries import summaries_rebuild

    began = time.perf_counter()
    today = timezone.localdate()
    with transaction.atomic():
        summaries_rebuild(today - timedelta(days=n) for n in range(400))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a load: index-only scans need it
    return time.perf_counter() - began


def measure(runs: int, warmups: int) -> None:
    from django.db import connection
    from django.test import Client

    from backend.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="registrar_head1"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    from django.utils import timezone

    from backend.monitor.selectors import Filters, at_risk_tasks

    today = timezone.localdate()
    deep = at_risk_tasks(Filters(start=today, end=today))[4999].pk
    year = f"from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"
    cases = [
        ("monitor page (cards), one year", f"/monitor/?{year}"),
        ("cards API, one year", f"/api/monitor/processes/?{year}"),
        ("heatmap API transcript_issuance, one year", f"/api/monitor/processes/transcript_issuance/heatmap/?{year}"),
        (
            "heatmap API journal_reopen, after claim",
            f"/api/monitor/processes/journal_reopen/heatmap/?{year}&mode=claim",
        ),
        ("heatmap page transcript_issuance, one year", f"/monitor/transcript_issuance/?{year}"),
        ("trend API transcript_issuance, one year", f"/api/monitor/processes/transcript_issuance/trend/?{year}"),
        ("overdue list API (50 rows)", "/api/monitor/at-risk/?page_size=50"),
        ("overdue-only list API (50 rows)", "/api/monitor/at-risk/?overdue=true&page_size=50"),
        ("overdue list API, 50 rows after the 5,000th", f"/api/monitor/at-risk/?page_size=50&after={deep}"),
        ("workload API per person", f"/api/monitor/workload/?{year}"),
        ("overdue page (list + per person + per unit)", f"/monitor/overdue/?{year}"),
    ]
    print(f"{'request':48} {'queries':>8} {'median ms':>10} {'p95 ms':>8}")
    queries: list[str] = []

    def count_queries(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    for label, url in cases:
        for _ in range(warmups):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries.clear()
        with connection.execute_wrapper(count_queries):
            client.get(url)
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - began)
        print(f"{label:48} {len(queries):8} {median_ms(samples):10.2f} {p95_ms(samples):8.2f}", flush=True)


def measure_refresh() -> None:
    """The rollup refresh (what beat runs every minute): facts for the 20,000 tasks completed last (about a
    week's), as after a week without a refresh; then a refresh with nothing to do."""
    from django.db import connection

    from backend.monitor.facts import facts_refresh
    from backend.monitor.models import TaskFact

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM monitor_taskfact WHERE task_id IN (SELECT task_id FROM monitor_taskfact"
            " ORDER BY completed_at DESC LIMIT 20000)"
        )
    began = time.perf_counter()
    written = facts_refresh()
    seconds = time.perf_counter() - began
    print(
        f"\nrollup refresh: {written:,} task facts in {seconds:.1f} s ({written / seconds:,.0f} rows/s); "
        f"{TaskFact.objects.count():,} task facts in all"
    )
    began = time.perf_counter()
    facts_refresh()
    print(f"a refresh with nothing to do: {(time.perf_counter() - began) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="timed requests per line (after the warm-ups)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests before each line")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--reuse", action="store_true", help=f"measure an already seeded {BENCH_DB}")
    parser.add_argument("--no-refresh", action="store_true", help="skip timing the rollup refresh")
    args = parser.parse_args()
    with bench_database(keep=args.keep or args.reuse, reuse=args.reuse) as url:
        setup_django(migrate=not args.reuse)
        if not args.reuse:
            print(f"seeded in {seed(url):.0f} s")
            print(f"summaries built in {build_summaries():.0f} s")
        from django.db import connection

        from backend.monitor.models import CaseFact, TaskFact
        from backend.workflow.models import HumanTask, ProcessInstance

        print(
            f"Qujat monitor benchmark — {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, PostgreSQL {connection.cursor().connection.info.server_version}"
        )
        print(
            f"{ProcessInstance.objects.count():,} cases, {HumanTask.objects.count():,} tasks "
            f"({HumanTask.objects.filter(status='open').count():,} open), {CaseFact.objects.count():,} case facts, "
            f"{TaskFact.objects.count():,} task facts"
        )
        print(f"{args.runs} timed requests per line, in-process Django test Client, server time")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        measure(args.runs, args.warmups)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.no_refresh:
            measure_refresh()


if __name__ == "__main__":
    main()
