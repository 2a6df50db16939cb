"""Approving routine tasks together: each goes through the engine on its own, and the result says which failed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition
from tests.conftest import api_as, user
from tests.inbox.conftest import open_task, start_case

pytestmark = pytest.mark.django_db


def bulk(username: str, capture: Any, tasks: list[int], data: dict[str, Any]) -> dict[str, Any]:
    """POST a bulk approval (202 with the job at once), let the job run, and return the finished job.

    The job speaks the language of the person who started it: English here, for the assertions."""
    from backend.accounts.models import User

    User.objects.filter(username=username).update(language="en")
    with capture(execute=True):
        response = api_as(username).post("/api/inbox/bulk-complete/", {"tasks": tasks, "data": data}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    assert response["Location"] == f"/api/jobs/{response.json()['id']}/"
    job = api_as(username).get(response["Location"]).json()
    assert job["status"] in ("done", "failed")
    return job


def test_routine_reviews_are_approved_together_and_others_are_refused_with_the_reason(
    bulk_process: ProcessDefinition, django_capture_on_commit_callbacks: Any
) -> None:
    routine = [open_task(start_case(), "review") for _ in range(3)]
    rows = api_as("department_head1").get("/api/inbox/").json()["results"]
    assert {row["id"]: row["bulk"] for row in rows} == {task.pk: True for task in routine}
    # Another department's review: this head may not even see it.
    other_head = open_task(start_case("teacher4", department="dept-internal"), "review")

    job = bulk(
        "department_head1",
        django_capture_on_commit_callbacks,
        [routine[0].pk, routine[1].pk, other_head.pk, routine[2].pk],
        {"decision": "approve"},
    )
    assert (job["done"], job["failed"], job["status"]) == (3, 1, "failed")
    results = {int(item["key"]): item for item in job["items"]}
    assert results[other_head.pk]["status"] == "failed"
    assert results[other_head.pk]["message"] == "There is no such task."
    assert results[other_head.pk]["name"] == f"Task {other_head.pk}"  # nothing about a task one may not see
    assert results[routine[0].pk]["name"] == "Head's review — Engine test"
    for task in routine:
        task.refresh_from_db()
        assert task.status == "completed"
        assert task.completed_by == user("department_head1")
        completed = HistoryEvent.objects.get(instance=task.instance, kind="completed", payload__spec="review")
        assert completed.payload["data"] == {"decision": "approve"}
    assert HumanTask.objects.get(pk=other_head.pk).status == "open"
    # Only the person who started the job (or a superuser) follows it.
    assert api_as("department_head2").get(f"/api/jobs/{job['id']}/").status_code == 404


def test_a_task_that_is_not_routine_must_be_decided_on_its_own_page(
    engine_test_process: ProcessDefinition, django_capture_on_commit_callbacks: Any
) -> None:
    review = open_task(start_case(), "review")
    assert api_as("department_head1").get("/api/inbox/").json()["results"][0]["bulk"] is False
    job = bulk("department_head1", django_capture_on_commit_callbacks, [review.pk], {"decision": "approve"})
    assert job["items"][0]["message"] == "This task must be decided on its own page."
    assert HumanTask.objects.get(pk=review.pk).status == "open"


def test_bad_data_fails_each_task_with_the_forms_message(
    bulk_process: ProcessDefinition, django_capture_on_commit_callbacks: Any
) -> None:
    review = open_task(start_case(), "review")
    job = bulk("department_head1", django_capture_on_commit_callbacks, [review.pk], {"decision": "return"})
    [result] = job["items"]
    assert result["status"] == "failed"
    assert "comment: This field is required." in result["message"]
    empty = api_as("department_head1").post("/api/inbox/bulk-complete/", {"tasks": [], "data": {}}, format="json")
    assert empty.status_code == 400
    assert "tasks" in empty.json()["fields"]
    too_many = api_as("department_head1").post(
        "/api/inbox/bulk-complete/", {"tasks": list(range(1, 102)), "data": {}}, format="json"
    )
    assert too_many.status_code == 400


def test_the_page_queues_the_ticked_tasks_and_the_job_page_lists_the_outcome(
    bulk_process: ProcessDefinition, logged_in: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.accounts.models import User

    first, second = (open_task(start_case(), "review") for _ in range(2))
    User.objects.filter(username="department_head1").update(language="en")
    client = logged_in("department_head1")
    page = client.get("/inbox/").content.decode()
    assert f'name="task" value="{first.pk}" form="bulk-form"' in page
    assert "data-bulk-all" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/inbox/bulk/", {"task": [first.pk, second.pk, 999999], "comment": "Routine"})
    assert response.status_code == 302
    assert response["Location"].startswith("/jobs/")
    html = client.get(response["Location"]).content.decode()
    assert "2 of 3 done" in html
    assert "1 failed" in html
    assert "There is no such task." in html
    assert f'href="{reverse("web:task", args=[first.pk])}"' in html
    first.refresh_from_db()
    assert first.submitted_data == {"decision": "approve", "comment": "Routine"}


def test_a_comment_is_kept_when_the_steps_form_has_no_field_for_it(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    # Given two transcript requests whose review (bulk="true", a form without a comment) waits for the staff
    started = [
        api_as(student)
        .post("/api/processes/transcript_issuance/start/", {"reason": "Жұмысқа ұсыну үшін", "language": "kk"})
        .json()["id"]
        for student in ("student1", "student2")
    ]
    reviews = [HumanTask.objects.get(instance_id=pk, status="open") for pk in started]

    # When the staff approve them together with a comment
    job = bulk(
        "registrar_staff1",
        django_capture_on_commit_callbacks,
        [r.pk for r in reviews],
        {"decision": "approve", "problems_acknowledged": True, "comment": "Тексерілді"},
    )

    # Then both went through and the comment is on each case, not lost
    assert job["done"] == 2, job
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
