"""A start and a completion are a short, fixed sequence of SQL statements, however long the case has run.

The counts are written down so they cannot creep back: each extra statement is a round trip on every
completion. Counted on the test database (PostgreSQL in CI: one statement inserts an event and moves the
chain's head; elsewhere two).
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.workflow import services
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance, TaskCandidate, Timer
from tests.conftest import user

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


def counted(action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What `action` sent, without transaction control (in a test the service's transaction is a savepoint)."""
    with CaptureQueriesContext(connection) as queries:
        result = action()
    sql = [query["sql"] for query in queries.captured_queries]
    return result, [statement for statement in sql if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def listing(sql: list[str]) -> str:
    return "\n".join(statement[:150] for statement in sql)


def reads_state(sql: list[str]) -> bool:
    return any(s.startswith("SELECT") and '"workflow_processinstance"."state"' in s for s in sql)


def open_task(instance: ProcessInstance) -> HumanTask:
    return HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)


def history_writes(sql: list[str]) -> int:
    return sum(1 for statement in sql if "INSERT INTO" in statement and "workflow_historyevent" in statement)


def per_event() -> int:
    """Statements that append one history event on its own: one on PostgreSQL, two elsewhere."""
    return 1 if connection.vendor == "postgresql" else 2


def per_save() -> int:
    """Statements that save the state with the events the operation held back for it (moving the chain's
    head): one on PostgreSQL, two elsewhere."""
    return 1 if connection.vendor == "postgresql" else 2


def per_new_task(*, timers: bool) -> int:
    """Statements that insert a task with its candidate rows (and SLA timers): one on PostgreSQL."""
    return 1 if connection.vendor == "postgresql" else 2 + timers


@pytest.fixture
def warm_worker(engine_test_process: object) -> None:
    """This worker has completed a task of the process before: it keeps the deployed version from then on."""
    teacher = user("teacher1")
    instance = services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    services.task_complete(task_id=open_task(instance).pk, user=teacher, data={"title": "x", "days": 1})


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[Callable[[], Any]], Any]:
    """Run an operation as if its transaction committed (its commit keeps the case in this worker's memory)."""

    def run(action: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def per_close() -> int:
    """Statements that close a task with its candidates and timers: one on PostgreSQL, three elsewhere."""
    return 1 if connection.vendor == "postgresql" else 3


def test_a_start_is_a_fixed_handful_of_statements(engine_test_process: object) -> None:
    teacher = user("teacher1")
    services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))  # warm caches

    instance, sql = counted(
        lambda: services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    )

    # The definition; may the user start it; the instance; "started"; the task with its candidate row (the first
    # task goes to the requester, who is already in memory); the state with the case's number and "task_created".
    assert len(sql) == 3 + per_event() + per_new_task(timers=False) + per_save(), listing(sql)
    assert history_writes(sql) == 2
    assert open_task(instance).assignee == teacher
    assert ProcessInstance.objects.get(pk=instance.pk).number == instance.number


def test_a_completion_that_routes_the_next_step_is_a_fixed_handful_of_statements(
    warm_worker: None, committed: Callable[[Callable[[], Any]], Any]
) -> None:
    teacher = user("teacher1")
    instance = committed(
        lambda: services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    )
    write = open_task(instance)

    _, sql = counted(lambda: services.task_complete(task_id=write.pk, user=teacher, data={"title": "x", "days": 1}))

    review = open_task(instance)
    # The task with its case locked, the permission checked, the case's open tasks and who already acted in it;
    # the task closed with its candidates and timers; routing: the unit with its parents, role holders, their
    # substitutes; the due date's working days; the new task with its candidates and its two SLA timers; the
    # state with "completed" and "task_created": 8 on PostgreSQL.
    assert len(sql) == 5 + per_close() + per_new_task(timers=True) + per_save(), listing(sql)
    assert history_writes(sql) == 1
    assert list(HistoryEvent.objects.filter(instance=instance).values_list("kind", flat=True).order_by("-seq")[:2]) == [
        "task_created",
        "completed",
    ]
    assert "FOR UPDATE" in sql[0] or not connection.features.has_select_for_update  # SQLite locks the database
    assert not reads_state(sql)
    assert set(TaskCandidate.objects.filter(task=review).values_list("user__username", flat=True)) == {
        "department_head1"
    }
    assert Timer.objects.filter(task=review, cancelled=False).count() == 2
    assert review.due_at is not None


def test_a_completion_that_hands_the_next_step_to_the_requester(
    warm_worker: None, committed: Callable[[Callable[[], Any]], Any]
) -> None:
    teacher, head = user("teacher1"), user("department_head1")
    instance = committed(
        lambda: services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    )
    committed(
        lambda: services.task_complete(task_id=open_task(instance).pk, user=teacher, data={"title": "x", "days": 1})
    )
    review = open_task(instance)

    _, sql = counted(
        lambda: services.task_complete(task_id=review.pk, user=head, data={"decision": "return", "comment": "why"})
    )

    # The lock with the permission and the open tasks; the task, its candidates and its SLA timers closed; the
    # new task for the requester with its candidate row; the state with "completed" and "task_created": 4 on
    # PostgreSQL.
    assert len(sql) == 1 + per_close() + per_new_task(timers=False) + per_save(), listing(sql)
    assert open_task(instance).assignee == teacher


def test_the_count_does_not_grow_with_the_history(
    engine_test_process: object, committed: Callable[[Callable[[], Any]], Any]
) -> None:
    teacher, head = user("teacher1"), user("department_head1")
    instance = committed(
        lambda: services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    )
    counts = []
    for _round in range(3):
        committed(
            lambda: services.task_complete(task_id=open_task(instance).pk, user=teacher, data={"title": "x", "days": 1})
        )
        review = open_task(instance)
        _, sql = counted(
            lambda review=review: committed(
                lambda: services.task_complete(
                    task_id=review.pk, user=head, data={"decision": "return", "comment": "again"}
                )
            )
        )
        counts.append(len(sql))
    assert counts[0] == counts[1] == counts[2]
    assert HistoryEvent.objects.filter(instance=instance, kind="completed").count() == 6


def test_the_state_is_read_only_when_the_worker_does_not_hold_the_case(
    warm_worker: None, committed: Callable[[Callable[[], Any]], Any]
) -> None:
    teacher = user("teacher1")
    warm_case, cold_case = (
        committed(lambda: services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START)))
        for _ in range(2)
    )
    _, warm = counted(
        lambda: services.task_complete(task_id=open_task(warm_case).pk, user=teacher, data={"title": "x", "days": 1})
    )
    services._CACHE.items.clear()  # as if another worker had served the case
    _, cold = counted(
        lambda: services.task_complete(task_id=open_task(cold_case).pk, user=teacher, data={"title": "x", "days": 1})
    )

    assert not reads_state(warm)
    assert reads_state(cold)
    assert len(cold) == len(warm) + 1, listing(cold)
