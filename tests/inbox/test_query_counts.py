"""A page of the inbox costs the same queries whether it shows 5, 25 or 100 tasks: no N+1 anywhere in the list."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backend.accounts.models import Substitution
from backend.inbox.models import TaskView
from backend.workflow import services
from backend.workflow.models import HumanTask, ProcessDefinition, TaskCandidate
from tests.conftest import api_as, user
from tests.inbox.conftest import approve_review, open_task, start_case

pytestmark = pytest.mark.django_db

# Session and user; the header's roles (shared with the menu) and unread counter; then substitutions, count,
# the page's ids, its rows, their definitions, the process filter and the saved filters.
PAGE_QUERIES = 11
# Substitutions, count, the page's ids, its rows and their definitions (the token, used before, comes from the cache).
API_QUERIES = 5


@pytest.fixture
def crowded_inbox(bulk_process: ProcessDefinition) -> None:
    """120+ open tasks for registrar_staff2 of every kind a row can be: offered, claimed by them, claimed by a
    colleague (read-only), offered to the person they substitute, routine (bulk) or not, read or unread."""
    cases = [start_case(teacher) for teacher in ("teacher1", "teacher3", "teacher2", "teacher1")]
    for case in cases:
        approve_review(case, head="teacher2" if case.started_by == user("department_head1") else "department_head1")
    checks = [open_task(case, "registrar_check") for case in cases]
    services.task_claim(task_id=checks[0].pk, user=user("registrar_staff2"))
    services.task_claim(task_id=checks[1].pk, user=user("registrar_staff1"))
    Substitution.objects.create(
        absent=user("registrar_inspector1"),
        substitute=user("registrar_staff2"),
        starts_on=timezone.localdate() - timedelta(days=1),
        ends_on=timezone.localdate() + timedelta(days=3),
    )
    TaskView.objects.create(user=user("registrar_staff2"), task=checks[2])
    # Copies of the projected rows fill the pages; some offered to the absent inspector, some routine reviews.
    now = timezone.now()
    review = HumanTask.objects.filter(spec_id="review").first()
    assert review is not None
    for number in range(120):
        template = checks[number % len(checks)] if number % 3 else review
        task = HumanTask.objects.create(
            instance=template.instance,
            engine_task_id=uuid.uuid4(),
            spec_id=template.spec_id,
            process_key=template.process_key,
            title=template.title,
            role=template.role,
            org_unit=template.org_unit,
            assignee=user("registrar_staff1") if number % 7 == 0 else None,
            due_at=now + timedelta(hours=number - 40),
            priority=number % 3,
            requester=user(f"teacher{number % 10 + 1}"),
            subject={"en": f"Case {number}"},
            search_text=f"case {number}",
        )
        holder = "registrar_inspector1" if number % 5 == 0 else "registrar_staff2"
        TaskCandidate.objects.create(task=task, user=user(holder))


@pytest.mark.parametrize("page_size", [5, 25, 100])
def test_the_page_costs_the_same_queries_whatever_its_size(
    crowded_inbox: None, page_size: int, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(user("registrar_staff2"))
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get("/inbox/", {"page_size": page_size, "sort": "priority"})
    assert response.content.decode().count('data-task-id="') == page_size
    assert "(read-only)" in client.get("/inbox/", {"scope": "colleagues"}).content.decode()


@pytest.mark.parametrize("page_size", [5, 25, 100])
def test_the_api_costs_the_same_queries_whatever_its_size(
    crowded_inbox: None, page_size: int, django_assert_num_queries: Any
) -> None:
    client = api_as("registrar_staff2")
    client.get("/api/inbox/unread/")  # the token's first use is read and recorded once, then known
    with django_assert_num_queries(API_QUERIES):
        response = client.get("/api/inbox/", {"page_size": page_size})
    rows = response.json()["results"]
    assert len(rows) == page_size
    if page_size == 100:
        assert {row["is_read_only"] for row in rows} == {True, False}
        assert any(row["acting_for"] for row in rows)
        assert any(row["bulk"] for row in rows)


def test_filters_and_deep_pages_cost_the_same(crowded_inbox: None, django_assert_num_queries: Any) -> None:
    client = api_as("registrar_staff2")
    client.get("/api/inbox/unread/")
    for params in ({"page": 5, "page_size": 25}, {"overdue": "1", "q": "case", "sort": "-created"}, {"due_week": "1"}):
        with django_assert_num_queries(API_QUERIES):
            assert client.get("/api/inbox/", params).status_code == 200


def test_the_unread_counter_is_one_query(crowded_inbox: None, django_assert_num_queries: Any) -> None:
    from backend.inbox.selectors import unread_count

    person = user("registrar_staff2")
    with django_assert_num_queries(1):
        count = unread_count(person)
    assert count > 50


@pytest.mark.parametrize("page_size", [5, 25, 100])
def test_the_htmx_list_costs_the_same_queries_whatever_its_size(
    crowded_inbox: None, page_size: int, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(user("registrar_staff2"))
    # Session and user, then the page's own five; the header is not rendered again.
    with django_assert_num_queries(7):
        response = client.get("/inbox/", {"page_size": page_size}, HTTP_HX_REQUEST="true")
    assert response.content.decode().count('data-task-id="') == page_size
