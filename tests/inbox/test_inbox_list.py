"""The inbox list as approvers use it: my tasks and my group's, filters, sorting, pages, unread marks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from backend.accounts.models import Substitution
from backend.workflow import services
from backend.workflow.models import HumanTask, ProcessDefinition
from tests.conftest import api_as, user
from tests.inbox.conftest import approve_review, open_task, start_case

pytestmark = pytest.mark.django_db


def inbox(username: str, **params: Any) -> dict[str, Any]:
    response = api_as(username).get("/api/inbox/", params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(username: str, **params: Any) -> list[int]:
    return [row["id"] for row in inbox(username, **params)["results"]]


def test_a_head_sees_the_review_with_what_a_person_recognises(engine_test_process: ProcessDefinition) -> None:
    instance = start_case(days=5)
    [row] = inbox("department_head1")["results"]
    review = open_task(instance, "review")
    assert row["id"] == review.pk
    assert row["title"] == "Head's review"
    assert row["process_title"] == "Engine test"
    # The test process sets no subject of its own: the process title and the case number (ET-…) stand in.
    assert row["subject"] == f"Engine test № {instance.number}"
    assert row["requester"] == user("teacher1").full_name
    assert row["priority"] == 2
    assert row["due_state"] == "later"
    assert row["unread"] is True
    assert row["is_read_only"] is False
    assert inbox("department_head2")["results"] == []  # another department's head


def test_the_subject_a_process_sets_is_shown(engine_test_process: ProcessDefinition) -> None:
    instance = start_case()
    HumanTask.objects.filter(instance=instance).update(
        subject={"en": "Reopen: Anatomy, group 101 — Ivanova A.", "ru": "Повторное открытие: Анатомия, 101"}
    )
    assert inbox("department_head1")["results"][0]["subject"] == "Reopen: Anatomy, group 101 — Ivanova A."
    ru = api_as("department_head1").get("/api/inbox/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert ru["results"][0]["subject"] == "Повторное открытие: Анатомия, 101"
    assert ru["results"][0]["title"] == "Рассмотрение заведующим"


def test_a_task_claimed_by_a_colleague_stays_visible_read_only(engine_test_process: ProcessDefinition) -> None:
    instance = start_case()
    approve_review(instance)
    check = open_task(instance, "registrar_check")
    services.task_claim(task_id=check.pk, user=user("registrar_staff1"))

    [mine] = inbox("registrar_staff1")["results"]
    assert mine["is_read_only"] is False
    [theirs] = inbox("registrar_staff2")["results"]
    assert theirs["is_read_only"] is True
    assert theirs["claimed_by"]["username"] == "registrar_staff1"
    assert ids("registrar_staff2", scope="colleagues") == [check.pk]
    assert ids("registrar_staff2", scope="mine") == []
    assert ids("registrar_staff2", scope="available") == []
    assert ids("registrar_staff1", scope="mine") == [check.pk]
    # The engine's own list keeps its meaning: only what the person may act on.
    assert api_as("registrar_staff2").get("/api/tasks/").json()["results"] == []


def test_filters_by_process_overdue_this_week_and_search(engine_test_process: ProcessDefinition) -> None:
    early = start_case("teacher1")
    later = start_case("teacher3")
    early_review, later_review = open_task(early, "review"), open_task(later, "review")
    now = timezone.now()
    HumanTask.objects.filter(pk=early_review.pk).update(due_at=now - timedelta(hours=3))
    HumanTask.objects.filter(pk=later_review.pk).update(due_at=now + timedelta(days=30))

    assert ids("department_head1", overdue="1") == [early_review.pk]
    assert ids("department_head1", due_week="1") == []
    assert set(ids("department_head1", process="qujat_engine_test")) == {early_review.pk, later_review.pk}
    assert ids("department_head1", process="journal_reopen") == []
    teacher3 = user("teacher3")
    assert ids("department_head1", q=teacher3.last_name) == [later_review.pk]
    assert ids("department_head1", q=teacher3.last_name.upper()) == [later_review.pk]
    assert ids("department_head1", q=str(early.pk)) == [early_review.pk]
    assert ids("department_head1", q=f"#{early.pk}") == [early_review.pk]
    assert ids("department_head1", q="nobody like this") == []


def test_due_this_week_means_before_next_monday(engine_test_process: ProcessDefinition) -> None:
    instance = start_case()
    review = open_task(instance, "review")
    wednesday = timezone.make_aware(timezone.datetime(2026, 11, 25, 10, 0))
    with time_machine.travel(wednesday, tick=False):
        HumanTask.objects.filter(pk=review.pk).update(due_at=wednesday + timedelta(days=4))  # Sunday
        assert ids("department_head1", due_week="1") == [review.pk]
        HumanTask.objects.filter(pk=review.pk).update(due_at=wednesday + timedelta(days=5))  # Monday
        assert ids("department_head1", due_week="1") == []


def test_sorting_by_due_created_and_priority(engine_test_process: ProcessDefinition) -> None:
    cases = [start_case("teacher1", days=2), start_case("teacher3", days=5), start_case("teacher1", days=1)]
    tasks = [open_task(case, "review") for case in cases]
    now = timezone.now()
    for task, hours in zip(tasks, [30, 10, 20], strict=True):
        HumanTask.objects.filter(pk=task.pk).update(due_at=now + timedelta(hours=hours))
    HumanTask.objects.filter(pk=tasks[2].pk).update(priority=3)
    first, second, third = (t.pk for t in tasks)

    assert ids("department_head1") == [second, third, first]  # soonest due first
    assert ids("department_head1", sort="-due") == [first, third, second]
    assert ids("department_head1", sort="-created") == [third, second, first]
    assert ids("department_head1", sort="created") == [first, second, third]
    assert ids("department_head1", sort="priority") == [third, second, first]
    assert ids("department_head1", sort="nonsense") == [second, third, first]


def test_pages(engine_test_process: ProcessDefinition) -> None:
    for _ in range(7):
        start_case()
    first = inbox("department_head1", page_size=3)
    assert (first["count"], first["pages"], first["page"], len(first["results"])) == (7, 3, 1, 3)
    assert first["previous"] is None
    assert "page=2" in first["next"]
    last = inbox("department_head1", page_size=3, page=3)
    assert len(last["results"]) == 1
    assert last["next"] is None
    beyond = inbox("department_head1", page_size=3, page=99)
    assert beyond["page"] == 3  # past the end: the last page
    everything = ids("department_head1", page_size=100)
    assert len(everything) == len(set(everything)) == 7


def test_the_page_lists_tasks_with_due_colours_and_pages(
    engine_test_process: ProcessDefinition, logged_in: Any
) -> None:
    overdue, soon, later = (open_task(start_case(), "review") for _ in range(3))
    now = timezone.now()
    HumanTask.objects.filter(pk=overdue.pk).update(due_at=now - timedelta(hours=1))
    HumanTask.objects.filter(pk=soon.pk).update(due_at=now + timedelta(hours=5))
    HumanTask.objects.filter(pk=later.pk).update(due_at=now + timedelta(days=3))
    client = logged_in("department_head1")

    page = client.get("/inbox/", {"page_size": 2})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-task-id="') == 2
    assert 'class="due-overdue" data-due="overdue"' in html
    assert 'class="due-soon" data-due="soon"' in html
    assert 'aria-label="Pages of the task list"' in html
    assert "page=2" in html
    assert 'id="filter-q"' in html
    assert 'for="filter-q"' in html

    partial = client.get("/inbox/", {"page_size": 2, "page": 2}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body  # htmx gets the list only
    assert body.count('data-task-id="') == 1
    assert 'data-due="later"' in body


def test_opening_a_task_marks_it_read_and_the_counter_drops(
    engine_test_process: ProcessDefinition, logged_in: Any
) -> None:
    first, second = (open_task(start_case(), "review") for _ in range(2))
    client = logged_in("department_head1")
    assert 'data-testid="unread-count">2<' in client.get("/inbox/").content.decode()
    assert api_as("department_head1").get("/api/inbox/unread/").json() == {"count": 2}

    client.get(f"/tasks/{first.pk}/")
    client.get(f"/tasks/{first.pk}/")  # only the first view counts
    rows = {row["id"]: row["unread"] for row in inbox("department_head1")["results"]}
    assert rows == {first.pk: False, second.pk: True}
    assert 'data-testid="unread-count">1<' in client.get("/inbox/").content.decode()
    api_as("department_head1").get(f"/api/inbox/tasks/{second.pk}/")
    assert api_as("department_head1").get("/api/inbox/unread/").json() == {"count": 0}


def test_a_substitute_sees_acts_for_and_is_named_in_the_history(
    engine_test_process: ProcessDefinition, logged_in: Any
) -> None:
    instance = start_case()
    review = open_task(instance, "review")
    Substitution.objects.create(
        absent=user("department_head1"),
        substitute=user("department_head3"),
        starts_on=timezone.localdate() - timedelta(days=1),
        ends_on=timezone.localdate() + timedelta(days=7),
    )
    [row] = inbox("department_head3")["results"]
    assert row["id"] == review.pk
    assert row["acting_for"]["username"] == "department_head1"

    client = logged_in("department_head3")
    page = client.get(f"/tasks/{review.pk}/").content.decode()
    assert 'data-testid="acting-for"' in page
    response = client.post(f"/tasks/{review.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.completed_by == user("department_head3")
    assert review.completed_for == user("department_head1")

    history = api_as("teacher1").get(f"/api/inbox/tasks/{review.pk}/history/").json()
    completed = [entry for entry in history if entry["kind"] == "completed"][-1]
    assert completed["actor"] == user("department_head3").full_name
    assert completed["acting_for"] == user("department_head1").full_name
    assert completed["details"] == [{"label": "Decision", "value": "Approve"}]
    page = logged_in("teacher1").get(f"/tasks/{review.pk}/").content.decode()
    assert 'data-testid="history-acting-for"' in page

    # When the substitution is over, the substitute's inbox no longer holds the head's tasks.
    Substitution.objects.update(ends_on=timezone.localdate() - timedelta(days=1))
    next_case = start_case()
    assert open_task(next_case, "review").pk not in ids("department_head3")


def test_the_api_rows_are_what_the_schema_documents(engine_test_process: ProcessDefinition) -> None:
    from backend.api.inbox import InboxRowSerializer

    start_case()
    [row] = inbox("department_head1")["results"]
    assert set(row) == set(InboxRowSerializer().fields)
    schema = api_as("department_head1").get("/api/schema/", {"format": "json"}).json()
    assert "InboxPage" in schema["components"]["schemas"]
