"""Idempotency-Key on starts, completions and bulk actions; lost database connections answered in JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.core.models import IdempotencyKey
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import api_as
from tests.inbox import conftest as inbox_fixtures
from tests.inbox.conftest import START, open_task, start_case

# The inbox's fixtures, used here too: a case waiting at the head's review, and the review marked routine.
review_case = inbox_fixtures.review_case
bulk_process = inbox_fixtures.bulk_process

START_URL = "/api/processes/qujat_engine_test/start/"


@pytest.mark.django_db
def test_a_retried_start_returns_the_first_case_and_never_makes_a_second(
    engine_test_process: ProcessDefinition,
) -> None:
    client = api_as("teacher1")
    first = client.post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    again = client.post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 1
    # Without a key, or with another key, a second start is a second case.
    assert (
        client.post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="start-2").json()["id"] != first.json()["id"]
    )
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(engine_test_process: ProcessDefinition) -> None:
    client = api_as("teacher1")
    assert client.post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    other = client.post(START_URL, {**START, "rounds": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert set(other.json()) == {"detail", "code", "fields"}
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 1


@pytest.mark.django_db
def test_keys_are_per_user_and_expire(engine_test_process: ProcessDefinition) -> None:
    assert api_as("teacher1").post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    # Another user's identical key is another request.
    assert api_as("teacher2").post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 2
    # After the period the key is forgotten and free again.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=settings.QUJAT_IDEMPOTENCY_HOURS + 1))
    assert api_as("teacher1").post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 3
    assert IdempotencyKey.objects.filter(user__username="teacher1").count() == 1


@pytest.mark.django_db
def test_a_bad_key_is_a_field_error(engine_test_process: ProcessDefinition) -> None:
    response = api_as("teacher1").post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert not ProcessInstance.objects.filter(definition__key="qujat_engine_test").exists()


@pytest.mark.django_db
def test_a_retried_completion_gets_the_first_answer_not_a_conflict(review_case: ProcessInstance) -> None:
    review = open_task(review_case, "review")
    client = api_as("department_head1")
    url = f"/api/tasks/{review.pk}/complete/"
    first = client.post(url, {"decision": "approve"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 200
    again = client.post(url, {"decision": "approve"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert (again.status_code, again.json()) == (200, first.json())
    # Without the key the second completion is refused: the task is closed.
    assert client.post(url, {"decision": "approve"}, format="json").status_code in (404, 409)
    assert HistoryEvent.objects.filter(instance=review_case, kind="completed", payload__spec="review").count() == 1


@pytest.mark.django_db
def test_a_retried_bulk_approval_returns_the_same_job(
    bulk_process: ProcessDefinition, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.core.models import Job

    tasks = [open_task(start_case(), "review").pk for _ in range(2)]
    client = api_as("department_head1")
    body = {"tasks": tasks, "data": {"decision": "approve"}}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/api/inbox/bulk-complete/", body, format="json", HTTP_IDEMPOTENCY_KEY="b")
        again = client.post("/api/inbox/bulk-complete/", body, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert Job.objects.filter(kind="inbox.bulk_complete").count() == 1


# --- lost connections (PostgreSQL) -------------------------------------------------------------------------------


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    ) as c:
        c.execute("SELECT pg_terminate_backend(%s)", [pid])


@contextmanager
def connection_killed_at(query_number: int) -> Iterator[list[int]]:
    """Terminate this connection's backend (as an operator or a failover would) just before its n-th query."""
    seen = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen[0] += 1
        if seen[0] == query_number:
            _terminate(connection.connection.info.backend_pid)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


@pytest.mark.postgres
def test_completions_with_connections_terminated_answer_json_and_complete_exactly_once(
    transactional_demo: None,
) -> None:
    from pathlib import Path

    from backend.workflow.deployment import deploy_file

    deploy_file(Path(__file__).parents[1] / "workflow" / "engine_test.bpmn")
    client = api_as("department_head1")
    # How many queries one completion makes, so that the fault can be put at each of them in turn.
    probe = open_task(start_case(), "review")
    with connection_killed_at(10**9) as seen:
        answer = client.post(f"/api/tasks/{probe.pk}/complete/", {"decision": "approve"}, format="json")
        assert answer.status_code == 200
    total = seen[0]
    assert total > 5
    outcomes = set()
    for query_number in range(1, total + 2, max(1, total // 12)):
        case = start_case()
        review = open_task(case, "review")
        url = f"/api/tasks/{review.pk}/complete/"
        key = f"kill-{query_number}"
        with connection_killed_at(query_number):
            response = client.post(url, {"decision": "approve"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        connection.close()  # what Django does at the end of a request whose connection broke
        assert response["Content-Type"].startswith("application/json"), (query_number, response.content[:200])
        if response.status_code != 200:
            assert response.status_code == 503, (query_number, response.json())
            assert response.json()["code"] in ("not_saved", "commit_uncertain", "database_unavailable")
        outcomes.add(response.status_code)
        # The client retries with the same key: the task is completed, once, whatever happened before.
        retry = client.post(url, {"decision": "approve"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert retry.status_code == 200, (query_number, retry.json())
        assert HumanTask.objects.get(pk=review.pk).status == "completed"
        assert HistoryEvent.objects.filter(instance=case, kind="completed", payload__spec="review").count() == 1
    assert 503 in outcomes  # the faults did hit completions


@pytest.mark.postgres
def test_two_requests_with_one_key_at_the_same_moment_make_one_case_and_get_one_answer(
    transactional_demo: None,
) -> None:
    import threading
    from pathlib import Path

    from backend.workflow.deployment import deploy_file

    deploy_file(Path(__file__).parents[1] / "workflow" / "engine_test.bpmn")
    barrier = threading.Barrier(4)
    answers: list[tuple[int, Any]] = []

    def start() -> None:
        try:
            client = api_as("teacher1")
            barrier.wait()
            response = client.post(START_URL, START, format="json", HTTP_IDEMPOTENCY_KEY="together")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [status for status, _body in answers] == [201] * 4
    assert len({body["id"] for _status, body in answers}) == 1
    assert ProcessInstance.objects.filter(definition__key="qujat_engine_test").count() == 1
