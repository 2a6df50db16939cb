"""Approving routine tasks together: each goes through the engine on its own, and the result says which failed."""

from __future__ import annotations

from typing import Any

import pytest

from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition
from tests.conftest import api_as, user
from tests.inbox.conftest import open_task, start_case

pytestmark = pytest.mark.django_db


def test_routine_reviews_are_approved_together_and_others_are_refused_with_the_reason(
    bulk_process: ProcessDefinition,
) -> None:
    routine = [open_task(start_case(), "review") for _ in range(3)]
    rows = api_as("department_head1").get("/api/inbox/").json()["results"]
    assert {row["id"]: row["bulk"] for row in rows} == {task.pk: True for task in routine}
    # Another department's review: this head may not even see it.
    other_head = open_task(start_case("teacher4", department="dept-internal"), "review")

    response = api_as("department_head1").post(
        "/api/inbox/bulk-complete/",
        {"tasks": [routine[0].pk, routine[1].pk, other_head.pk, routine[2].pk], "data": {"decision": "approve"}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (3, 1)
    results = {r["task"]: r for r in body["results"]}
    assert results[other_head.pk]["ok"] is False
    assert results[other_head.pk]["message"] == "There is no such task."
    for task in routine:
        task.refresh_from_db()
        assert task.status == "completed"
        assert task.completed_by == user("department_head1")
        completed = HistoryEvent.objects.get(instance=task.instance, kind="completed", payload__spec="review")
        assert completed.payload["data"] == {"decision": "approve"}
    assert HumanTask.objects.get(pk=other_head.pk).status == "open"


def test_a_task_that_is_not_routine_must_be_decided_on_its_own_page(engine_test_process: ProcessDefinition) -> None:
    review = open_task(start_case(), "review")
    assert api_as("department_head1").get("/api/inbox/").json()["results"][0]["bulk"] is False
    response = api_as("department_head1").post(
        "/api/inbox/bulk-complete/", {"tasks": [review.pk], "data": {"decision": "approve"}}, format="json"
    )
    assert response.json()["results"][0]["message"] == "This task must be decided on its own page."
    assert HumanTask.objects.get(pk=review.pk).status == "open"


def test_bad_data_fails_each_task_with_the_forms_message(bulk_process: ProcessDefinition) -> None:
    review = open_task(start_case(), "review")
    response = api_as("department_head1").post(
        "/api/inbox/bulk-complete/", {"tasks": [review.pk], "data": {"decision": "return"}}, format="json"
    )
    [result] = response.json()["results"]
    assert result["ok"] is False
    assert "comment: This field is required." in result["message"]
    assert (
        api_as("department_head1")
        .post("/api/inbox/bulk-complete/", {"tasks": [], "data": {}}, format="json")
        .status_code
        == 400
    )


def test_the_page_approves_the_ticked_tasks_and_lists_the_outcome(
    bulk_process: ProcessDefinition, logged_in: Any
) -> None:
    first, second = (open_task(start_case(), "review") for _ in range(2))
    client = logged_in("department_head1")
    page = client.get("/inbox/").content.decode()
    assert f'name="task" value="{first.pk}" form="bulk-form"' in page
    assert "data-bulk-all" in page

    response = client.post("/inbox/bulk/", {"task": [first.pk, second.pk, 999999], "comment": "Routine"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 tasks approved" in html
    assert "1 task was not approved" in html
    assert "There is no such task." in html
    first.refresh_from_db()
    assert first.submitted_data == {"decision": "approve", "comment": "Routine"}


def test_a_comment_is_kept_when_the_steps_form_has_no_field_for_it(demo: None) -> None:
    # Given two transcript requests whose review (bulk="true", a form without a comment) waits for the staff
    started = [
        api_as(student)
        .post("/api/processes/transcript_issuance/start/", {"reason": "Жұмысқа ұсыну үшін", "language": "kk"})
        .json()["id"]
        for student in ("student1", "student2")
    ]
    reviews = [HumanTask.objects.get(instance_id=pk, status="open") for pk in started]

    # When the staff approve them together with a comment
    response = api_as("registrar_staff1").post(
        "/api/inbox/bulk-complete/",
        {
            "tasks": [r.pk for r in reviews],
            "data": {"decision": "approve", "problems_acknowledged": True, "comment": "Тексерілді"},
        },
        format="json",
    )

    # Then both went through and the comment is on each case, not lost
    assert response.json()["succeeded"] == 2, response.json()
    from backend.inbox.models import Comment

    for review in reviews:
        review.refresh_from_db()
        assert review.status == "completed"
        assert Comment.objects.filter(instance=review.instance, text="Тексерілді").exists()


def test_the_visas_of_a_reopen_request_may_be_approved_together(demo: None) -> None:
    from backend.inbox.selectors import bulk_specs
    from backend.workflow.models import ProcessDefinition

    definition = ProcessDefinition.objects.filter(key="journal_reopen").order_by("-version").first()
    visas = {
        spec
        for spec, info in definition.routing["tasks"].items()
        if info["properties"].get("form", "").endswith("visa.json")
    }  # type: ignore[union-attr]
    assert visas
    assert visas <= bulk_specs(definition)
