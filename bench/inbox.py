"""Inbox benchmark: one person's inbox page and API among 1,000,000 task rows (100,000 of them open), PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/inbox.py [--runs 200]

A database named qujat_bench_inbox is created next to DATABASE_URL's and dropped afterwards (--keep keeps it,
--reuse measures a kept one again). Rows are seeded with COPY. Each request is timed in-process with Django's
test Client (server time: URL routing, middleware, queries, template or serializer — no network), after
warm-up; the medians and 95th percentiles are printed. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
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
DIAGRAM = ROOT / "tests" / "workflow" / "engine_test.bpmn"
BENCH_DB = "qujat_bench_inbox"

TOTAL_TASKS = 1_000_000
OPEN_TASKS = 100_000
PEOPLE = 5_000
GROUPS = 1_200  # a role at a unit: the people a task is offered to
MEASURED = "bench_head"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000


@contextmanager
def bench_database(*, keep: bool, reuse: bool) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://… (the benchmark is about PostgreSQL).")
    import psycopg

    base, _, _name = url.rpartition("/")
    os.environ["QUJAT_VAR_DIR"] = tempfile.mkdtemp(prefix="qujat-bench-inbox-")
    os.environ.setdefault("QUJAT_ENV_FILE", "/nonexistent")
    admin = psycopg.connect(url, autocommit=True)
    if not reuse:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["DATABASE_URL"] = f"{base}/{BENCH_DB}"
    try:
        yield f"{base}/{BENCH_DB}"
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def setup_django(*, migrate: bool) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.test"
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        from backend.demo.seed import seed_demo
        from backend.workflow.deployment import deploy_file

        call_command("migrate", verbosity=0)
        seed_demo()
        deploy_file(DIAGRAM)


# --- seeding --------------------------------------------------------------------------------------------------------

SURNAMES = ["Иванова", "Ахметов", "Сейітова", "Нурланов", "Петрова", "Жақсылықов", "Омарова", "Ким", "Ли", "Абенов"]
NAMES = ["Айгерім", "Асель", "Дархан", "Ерлан", "Мария", "Нұрлан", "Сауле", "Тимур", "Әлия", "Бауыржан"]
DISCIPLINES = ["Анатомия", "Гистология", "Фармакология", "Латинский язык", "Физиология", "Биохимия", "Философия"]


def seed(url: str, *, seed_value: int = 7) -> dict[str, Any]:
    """Users, groups, 1,000,000 tasks (100,000 open) with candidates, views; one measured department head."""
    import psycopg
    from django.contrib.auth.hashers import make_password

    from backend.accounts.models import User
    from backend.workflow.models import ProcessDefinition

    rng = random.Random(seed_value)
    definition = ProcessDefinition.objects.get(key="qujat_engine_test")
    now = datetime.now(UTC)
    password = make_password("demo")
    began = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_user")
        first_user = cur.fetchone()[0] + 1  # type: ignore[index]
        people = list(range(first_user, first_user + PEOPLE))
        names: dict[int, str] = {}
        with cur.copy(
            "COPY accounts_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, patronymic, position, language, email_digest) FROM STDIN"
        ) as copy:
            for index, user_id in enumerate(people):
                username = MEASURED if index == 0 else f"bench{index}"
                last, first = rng.choice(SURNAMES), rng.choice(NAMES)
                names[user_id] = f"{last} {first}"
                copy.write_row(
                    (
                        user_id,
                        password,
                        False,
                        username,
                        first,
                        last,
                        f"{username}@bench.qujat.kz",
                        False,
                        True,
                        now,
                        "",
                        "",
                        rng.choice(["kk", "ru", "en"]),
                        index % 10 == 0,
                    )
                )
        measured = people[0]
        absent = people[1]  # the measured head substitutes this colleague today
        # Groups of 2–5 people share a role at a unit; tasks are offered to a whole group.
        groups = [rng.sample(people[2:], rng.randint(2, 5)) for _ in range(GROUPS)]
        groups[0] = [measured, *groups[0][:3]]
        groups[1] = [measured, *groups[1][:2]]
        groups[2] = [absent, *groups[2][:2]]
        # Skewed load: most groups have a few dozen open tasks, the measured head's ~300, the absent one's ~60.
        weights = [rng.paretovariate(1.5) for _ in groups]
        weights[0], weights[1], weights[2] = 0.0, 0.0, 0.0
        open_group = rng.choices(range(GROUPS), weights=weights, k=OPEN_TASKS - 380)
        open_group += [0] * 200 + [1] * 120 + [2] * 60
        rng.shuffle(open_group)

        running = OPEN_TASKS
        finished = (TOTAL_TASKS - OPEN_TASKS * 4) // 4
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_processinstance")
        first_instance = cur.fetchone()[0] + 1  # type: ignore[index]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_humantask")
        next_task = cur.fetchone()[0] + 1  # type: ignore[index]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_taskcandidate")
        next_candidate = cur.fetchone()[0] + 1  # type: ignore[index]
        instances = []
        for number in range(running + finished):
            instance_id = first_instance + number
            requester = rng.choice(people[2:])
            discipline = rng.choice(DISCIPLINES)
            group_name = f"{rng.randint(101, 450)}"
            subject = {
                "ru": f"Повторное открытие: {discipline}, группа {group_name} — {names[requester]}",
                "kk": f"Қайта ашу: {discipline}, {group_name} топ — {names[requester]}",
                "en": f"Reopen: {discipline}, group {group_name} — {names[requester]}",
            }
            started = now - timedelta(days=rng.uniform(0, 365 if number >= running else 40))
            instances.append((instance_id, requester, subject, started, number < running))
        with cur.copy(
            "COPY workflow_processinstance (id, definition_id, process_key, status, business_key, subject, state, "
            "data, started_by_id, started_at, updated_at, completed_at, version, incident, stage, history_count, "
            "history_head, state_segments) FROM STDIN"
        ) as copy:
            for instance_id, requester, subject, started, is_running in instances:
                copy.write_row(
                    (
                        instance_id,
                        definition.pk,
                        definition.key,
                        "running" if is_running else "completed",
                        f"RJ-2026-{instance_id:06}",
                        json.dumps(subject, ensure_ascii=False),
                        "{}",
                        "{}",
                        requester,
                        started,
                        started,
                        None if is_running else started + timedelta(days=3),
                        1,
                        "",
                        "",
                        0,
                        "0" * 64,
                        0,
                    )
                )
        task_rows = []
        candidate_rows = []
        views = []
        title = json.dumps({"en": "Head's review", "ru": "Рассмотрение заведующим", "kk": "Меңгерушінің қарауы"})
        for index, (instance_id, requester, subject, started, is_running) in enumerate(instances):
            search = " ".join([*subject.values(), f"rj-2026-{instance_id:06}", names[requester]]).lower()
            done = 3 if is_running else 4
            for step in range(done):
                group = groups[rng.randrange(GROUPS)]
                completer = rng.choice(group)
                created = started + timedelta(hours=step * 20)
                task_rows.append(
                    (
                        next_task,
                        instance_id,
                        uuid.uuid4(),
                        "review",
                        definition.key,
                        title,
                        "department_head",
                        "department_head",
                        completer,
                        "completed",
                        created,
                        created + timedelta(days=2),
                        0,
                        completer,
                        created + timedelta(hours=5),
                        "{}",
                        requester,
                        json.dumps(subject, ensure_ascii=False),
                        search,
                    )
                )
                candidate_rows.append((next_candidate, next_task, completer, False))
                next_candidate += 1
                next_task += 1
            if is_running:
                group_index = open_group[index]
                group = groups[group_index]
                created = now - timedelta(hours=rng.uniform(1, 24 * 30))
                due = None if rng.random() < 0.2 else now + timedelta(hours=rng.uniform(-24 * 10, 24 * 20))
                claimed = rng.random() < 0.3
                assignee = rng.choice(group) if claimed else None
                priority = rng.choices([0, 1, 2], weights=[70, 20, 10])[0]
                task_rows.append(
                    (
                        next_task,
                        instance_id,
                        uuid.uuid4(),
                        "review",
                        definition.key,
                        title,
                        "department_head",
                        "department_head",
                        assignee,
                        "open",
                        created,
                        due,
                        priority,
                        None,
                        None,
                        "{}",
                        requester,
                        json.dumps(subject, ensure_ascii=False),
                        search,
                    )
                )
                for member in group:
                    candidate_rows.append((next_candidate, next_task, member, True))
                    next_candidate += 1
                if rng.random() < 0.5:
                    views.append((rng.choice(group), next_task))
                next_task += 1
        with cur.copy(
            "COPY workflow_humantask (id, instance_id, engine_task_id, spec_id, process_key, title, lane, role, "
            "assignee_id, status, created_at, due_at, priority, completed_by_id, completed_at, submitted_data, "
            "requester_id, subject, search_text) FROM STDIN"
        ) as copy:
            for row in task_rows:
                copy.write_row(row)
        with cur.copy("COPY workflow_taskcandidate (id, task_id, user_id, is_open) FROM STDIN") as copy:
            for row in candidate_rows:
                copy.write_row(row)
        with cur.copy("COPY inbox_taskview (task_id, user_id, viewed_at) FROM STDIN") as copy:
            for user_id, task_id in set(views):
                copy.write_row((task_id, user_id, now))
        cur.execute(
            "INSERT INTO accounts_substitution (absent_id, substitute_id, role, starts_on, ends_on, reason, created_at,"
            " updated_at) VALUES (%s, %s, '', %s, %s, 'vacation', %s, %s)",
            (absent, measured, (now - timedelta(days=3)).date(), (now + timedelta(days=10)).date(), now, now),
        )
        for table in ("accounts_user", "workflow_processinstance", "workflow_humantask", "workflow_taskcandidate"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    user = User.objects.get(username=MEASURED)
    return {"seconds": time.perf_counter() - began, "user": user.pk}


def counts() -> dict[str, int]:
    from django.db import connection

    result = {}
    with connection.cursor() as cursor:
        for label, sql in {
            "tasks": "SELECT COUNT(*) FROM workflow_humantask",
            "open tasks": "SELECT COUNT(*) FROM workflow_humantask WHERE status = 'open'",
            "candidate rows": "SELECT COUNT(*) FROM workflow_taskcandidate",
            "instances": "SELECT COUNT(*) FROM workflow_processinstance",
            "people": "SELECT COUNT(*) FROM accounts_user",
        }.items():
            cursor.execute(sql)
            result[label] = cursor.fetchone()[0]
    return result


# --- measuring -----------------------------------------------------------------------------------------------------


def measure(runs: int, explain: bool) -> None:
    from django.db import connection
    from django.test import Client

    from backend.accounts.models import User
    from backend.inbox import selectors
    from backend.workflow.selectors import inbox

    user = User.objects.get(username=MEASURED)
    in_inbox = selectors.inbox_tasks(user=user, filters=selectors.InboxFilters()).count()
    mine = inbox(user).count()
    deep = max(1, (in_inbox + 24) // 25 - 1)
    print(f"measured person: {MEASURED}, {in_inbox} open tasks in the inbox ({mine} actionable, the rest claimed by")
    print(f"colleagues), substituting one absent colleague; deep page = page {deep} of 25 rows\n")
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    cases = [
        ("page 1", "/inbox/"),
        (f"page {deep} (deep)", f"/inbox/?page={deep}"),
        ("overdue", "/inbox/?overdue=1"),
        ("due this week, by priority", "/inbox/?due_week=1&sort=priority"),
        ("search by person", "/inbox/?q=иванова"),
        ("search by number", "/inbox/?q=RJ-2026-0000"),
        ("process + newest first, 100 rows", "/inbox/?process=qujat_engine_test&sort=-created&page_size=100"),
        ("htmx list only, page 2", "/inbox/?page=2"),
        ("API page 1", "/api/inbox/"),
        (f"API page {deep} (deep)", f"/api/inbox/?page={deep}"),
        ("API overdue", "/api/inbox/?overdue=1"),
        ("API search by person", "/api/inbox/?q=иванова"),
        ("API 100 rows", "/api/inbox/?page_size=100"),
        ("API unread counter", "/api/inbox/unread/"),
        ("engine's /api/tasks/ (actionable)", "/api/tasks/"),
    ]
    queries: list[str] = []

    def count_queries(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    print(f"{'request':42} {'rows':>5} {'queries':>8} {'median ms':>10} {'p95 ms':>8}")
    print("(rows: shown on the page; for the API, tasks matching the filters)")
    for label, url in cases:
        headers = {"HTTP_HX_REQUEST": "true"} if label.startswith("htmx") else {}
        for _ in range(10):
            response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code)
        queries.clear()
        with connection.execute_wrapper(count_queries):
            response = client.get(url, **headers)
        if url.startswith("/api/"):
            rows = response.json().get("count", "") if "unread" not in url else ""
        else:
            rows = response.content.decode().count('data-task-id="')
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get(url, **headers)
            samples.append(time.perf_counter() - began)
        print(f"{label:42} {rows!s:>5} {len(queries):8} {median_ms(samples):10.2f} {p95_ms(samples):8.2f}")
    if explain:
        people = [user.pk, *selectors._substituted(user)]
        tasks = selectors.inbox_tasks(user=user, filters=selectors.InboxFilters(), people=people)
        page_ids = tasks.order_by(*selectors.SORTS["due"]).values_list("pk", flat=True)[(deep - 1) * 25 : deep * 25]
        sql, params = page_ids.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print(f"\nplan of the ids of page {deep}:\n" + "\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed requests per line (after 10 warm-ups)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--reuse", action="store_true", help=f"measure an already seeded {BENCH_DB}")
    parser.add_argument("--explain", action="store_true", help="print the plan of the inbox query")
    args = parser.parse_args()
    with bench_database(keep=args.keep or args.reuse, reuse=args.reuse) as url:
        setup_django(migrate=not args.reuse)
        if not args.reuse:
            seeded = seed(url)
            print(f"seeded in {seeded['seconds']:.0f} s")
        from django.db import connection

        print(
            f"Qujat inbox benchmark — {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"PostgreSQL {connection.cursor().connection.info.server_version}"
        )
        print(", ".join(f"{value:,} {label}" for label, value in counts().items()))
        print(f"{args.runs} timed requests per line, in-process Django test Client, server time\n")
        measure(args.runs, args.explain)


if __name__ == "__main__":
    main()
