"""The journal reopen procedure driven through the REST API as the demo users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from backend.academics.models import Journal, JournalMark
from backend.reopen.models import GradeChange, ReopenRequest
from backend.workflow import services as workflow
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance
from tests.conftest import api_as, user

pytestmark = pytest.mark.django_db

VISAS = ["head_visa", "curation_visa", "school_visa", "vice_visa", "inspector_review", "head_or_review"]
APPROVERS = {
    "head_visa": "department_head1",
    "curation_visa": "dean_curation1",
    "school_visa": "school_dean1",
    "vice_visa": "vice_rector1",
    "inspector_review": "registrar_inspector1",
    "head_or_review": "registrar_head1",
}


def own_closed_journal(username: str = "teacher1", *, lesson_type: str = "practical", late: bool = False) -> Journal:
    journals = Journal.objects.filter(
        teacher__username=username, status="closed", lesson_type=lesson_type, period__academic_year="2026-2027"
    )
    cutoff = timezone.now() - timedelta(days=3)
    journals = journals.filter(closed_at__lt=cutoff) if late else journals.filter(closed_at__gte=cutoff)
    return journals.order_by("pk").first()


def start(journal: Journal, username: str = "teacher1", **extra: Any) -> dict[str, Any]:
    body = {
        "journal": journal.pk,
        "wrong_entry_date": str(journal.period.starts_on + timedelta(days=8)),
        "reason_category": "wrong_grade",
        "reason": "Баллы студента & его соседа перепутаны местами",
        **extra,
    }
    response = api_as(username).post("/api/processes/journal_reopen/start/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def task_of(instance_id: int, username: str, spec: str) -> dict[str, Any]:
    tasks = api_as(username).get("/api/tasks/", {"process": "journal_reopen", "page_size": 100}).json()["results"]
    mine = [t for t in tasks if t["instance"] == instance_id and t["task"] == spec]
    assert mine, f"{username} has no {spec} task; open: {[(t['instance'], t['task']) for t in tasks]}"
    return mine[0]


def act(instance_id: int, username: str, spec: str, **data: Any) -> None:
    task = task_of(instance_id, username, spec)
    response = api_as(username).post(f"/api/tasks/{task['id']}/complete/", data, format="json")
    assert response.status_code == 200, response.json()


def open_specs(instance_id: int) -> list[str]:
    return sorted(HumanTask.objects.filter(instance_id=instance_id, status="open").values_list("spec_id", flat=True))


def approve_visas(instance_id: int, until: str = "head_or_review") -> None:
    for spec in VISAS[: VISAS.index(until) + 1]:
        act(instance_id, APPROVERS[spec], spec, decision="approve")


def request_of(instance_id: int) -> ReopenRequest:
    return ReopenRequest.objects.get(instance_id=instance_id)


def test_the_whole_procedure(demo: None) -> None:
    journal = own_closed_journal()
    instance = start(journal)
    reopen = request_of(instance["id"])
    assert reopen.stage == "approval"
    assert not reopen.late
    assert instance["subject"].startswith("Reopen: ")

    approve_visas(instance["id"])
    reopen.refresh_from_db()
    journal.refresh_from_db()
    assert journal.status == "reopened"
    assert reopen.stage == "open"
    assert reopen.window_closes_at > timezone.now()
    assert open_specs(instance["id"]) == ["corrections"]

    # The teacher corrects a mark; nobody else may, and only in the reopened journal.
    mark = JournalMark.objects.filter(journal=journal).order_by("pk").first()
    marks_url = f"/api/reopen/requests/{reopen.pk}/marks/"
    body = {"journal": journal.pk, "student": mark.student_id, "lesson_date": str(mark.lesson_date), "value": "88"}
    assert api_as("department_head1").post(marks_url, body, format="json").status_code == 403
    assert api_as("teacher3").post(marks_url, body, format="json").status_code == 404
    bad = api_as("teacher1").post(marks_url, {**body, "value": "188"}, format="json")
    assert bad.status_code == 400
    assert "value" in bad.json()["fields"]
    changed = api_as("teacher1").post(marks_url, body, format="json")
    assert changed.status_code == 201
    assert (changed.json()["old_value"], changed.json()["new_value"]) == (mark.value, "88")
    other_journal = Journal.objects.filter(teacher__username="teacher1").exclude(pk=journal.pk).first()
    elsewhere = api_as("teacher1").post(marks_url, {**body, "journal": other_journal.pk}, format="json")
    assert elsewhere.status_code == 400

    act(instance["id"], "teacher1", "corrections", done=True)
    act(instance["id"], "registrar_inspector1", "accept_sheet", accepted=True)
    journal.refresh_from_db()
    reopen.refresh_from_db()
    assert journal.status == "closed"
    assert reopen.window_closed_at is not None
    assert not reopen.window_expired
    assert (reopen.teacher_count, reopen.department_count) == (1, 1)
    assert (reopen.proposed_teacher_measure, reopen.proposed_department_measure) == ("oral_warning", "oral_warning")

    act(
        instance["id"],
        "school_dean1",
        "dean_discipline",
        teacher_measure="oral_warning",
        department_measure="none",
        reference="Приказ № 12-к",
        reference_date="2026-11-25",
    )
    reopen.refresh_from_db()
    assert reopen.stage == "completed"
    assert ProcessInstance.objects.get(pk=instance["id"]).status == "completed"
    assert GradeChange.objects.filter(request=reopen).count() == 1
    kinds = set(HistoryEvent.objects.filter(instance_id=instance["id"]).values_list("kind", flat=True))
    assert {"started", "completed", "finished"} <= kinds
    assert [d["kind"] for d in api_as("teacher1").get(f"/api/reopen/requests/{reopen.pk}/").json()["documents"]] == [
        "explanatory_note",
        "explanatory_note",
        "grade_sheet",
        "disciplinary_proposal",
    ]


def test_returned_for_correction_the_visas_start_again(demo: None) -> None:
    instance = start(own_closed_journal())
    act(instance["id"], "department_head1", "head_visa", decision="approve")
    returned = api_as("dean_curation1").post(
        f"/api/tasks/{task_of(instance['id'], 'dean_curation1', 'curation_visa')['id']}/complete/",
        {"decision": "return"},
        format="json",
    )
    assert returned.status_code == 400
    assert returned.json()["fields"] == {"comment": ["This field is required."]}
    act(instance["id"], "dean_curation1", "curation_visa", decision="return", comment="Укажите дату точнее")
    assert open_specs(instance["id"]) == ["revise"]

    act(
        instance["id"],
        "teacher1",
        "revise",
        wrong_entry_date="2026-09-10",
        reason_category="technical_error",
        reason="Оценки введены в соседнюю колонку из-за сбоя",
    )
    assert open_specs(instance["id"]) == ["head_visa"]  # the visas restart from the head of department
    reopen = request_of(instance["id"])
    assert reopen.reason_category == "technical_error"
    assert str(reopen.wrong_entry_date) == "2026-09-10"
    assert ProcessInstance.objects.get(pk=instance["id"]).data["submissions"] == 2


@pytest.mark.parametrize("level", VISAS)
def test_a_refusal_at_any_level_ends_it_and_nothing_reopens(demo: None, level: str) -> None:
    instance = start(own_closed_journal())
    for spec in VISAS[: VISAS.index(level)]:
        act(instance["id"], APPROVERS[spec], spec, decision="approve")
    act(instance["id"], APPROVERS[level], level, decision="refuse", comment="Оснований нет")
    reopen = request_of(instance["id"])
    assert reopen.stage == "refused"
    assert reopen.window_opened_at is None
    assert all(j.status == "closed" for j in reopen.journals.all())
    assert open_specs(instance["id"]) == []


def test_a_late_request_is_accepted_and_flagged_and_its_author_cannot_approve_it(demo: None) -> None:
    journal = own_closed_journal("department_head1", lesson_type="lecture", late=True)
    instance = start(journal, "department_head1")
    reopen = request_of(instance["id"])
    assert reopen.late
    assert reopen.late_days >= 1
    assert "(late)" in instance["subject"]
    assert instance["process_data"]["late"] is True
    # Separation of duties: the head filed the note as a teacher, so the deputy head gives the visa.
    review = HumanTask.objects.get(instance_id=instance["id"], status="open")
    assert list(review.candidates.values_list("user__username", flat=True)) == ["teacher2"]
    assert api_as("department_head1").get("/api/tasks/", {"process": "journal_reopen"}).json()["results"] == []
    task = task_of(instance["id"], "teacher2", "head_visa")
    assert "(late)" in task["subject"]  # every approver sees the flag
    act(instance["id"], "teacher2", "head_visa", decision="approve")
    assert open_specs(instance["id"]) == ["curation_visa"]


def test_the_window_closes_by_itself(demo: None) -> None:
    journal = own_closed_journal()
    instance = start(journal)
    approve_visas(instance["id"])
    reopen = request_of(instance["id"])
    with time_machine.travel(reopen.window_closes_at + timedelta(minutes=1)):
        workflow.timers_fire_due()
    reopen.refresh_from_db()
    journal.refresh_from_db()
    assert journal.status == "closed"
    assert reopen.window_expired
    assert not reopen.window_open
    assert open_specs(instance["id"]) == ["dean_discipline"]  # still counted: the journal was reopened
    mark = JournalMark.objects.filter(journal=journal).first()
    late_change = api_as("teacher1").post(
        f"/api/reopen/requests/{reopen.pk}/marks/",
        {"journal": journal.pk, "student": mark.student_id, "lesson_date": str(mark.lesson_date), "value": "77"},
        format="json",
    )
    assert late_change.status_code == 409


@override_settings(QUJAT_REOPEN_ROUTING="deans_council")
def test_the_kazakh_variant_routes_through_the_deans_council(demo: None) -> None:
    instance = start(own_closed_journal())
    act(instance["id"], "department_head1", "head_visa", decision="approve")
    assert open_specs(instance["id"]) == ["council"]
    missing = api_as("school_dean1").post(
        f"/api/tasks/{task_of(instance['id'], 'school_dean1', 'council')['id']}/complete/",
        {"decision": "approve"},
        format="json",
    )
    assert set(missing.json()["fields"]) == {"minutes_number", "minutes_date"}
    act(instance["id"], "school_dean1", "council", decision="approve", minutes_number="7", minutes_date="2026-11-24")
    assert open_specs(instance["id"]) == ["inspector_review"]
    act(instance["id"], "registrar_inspector1", "inspector_review", decision="approve")
    act(instance["id"], "registrar_head1", "head_or_review", decision="approve")
    act(instance["id"], "teacher1", "corrections", done=True)
    act(instance["id"], "registrar_inspector1", "accept_sheet", accepted=True)
    assert open_specs(instance["id"]) == ["or_discipline"]  # the Registrar office decides in this variant


def test_a_teacher_cannot_reopen_a_journal_that_is_not_theirs_or_not_closed(demo: None) -> None:
    someone_elses = Journal.objects.filter(status="closed").exclude(teacher__username="teacher1").first()
    body = {"wrong_entry_date": "2026-09-10", "reason_category": "other", "reason": "Нужно исправить оценку"}
    refused = api_as("teacher1").post(
        "/api/processes/journal_reopen/start/", {**body, "journal": someone_elses.pk}, format="json"
    )
    assert refused.status_code == 400
    assert "journal" in refused.json()["fields"]
    still_open = Journal.objects.filter(teacher__username="teacher1", status="open").first()
    refused = api_as("teacher1").post(
        "/api/processes/journal_reopen/start/", {**body, "journal": still_open.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["fields"]["journal"] == ["The journal is not closed."]
    assert not ReopenRequest.objects.exists()
    assert (
        api_as("student1")
        .post("/api/processes/journal_reopen/start/", {**body, "journal": still_open.pk}, format="json")
        .status_code
        == 400
    )


def test_a_second_request_for_the_same_journal_waits_for_the_first(demo: None) -> None:
    journal = own_closed_journal()
    start(journal)
    again = api_as("teacher1").post(
        "/api/processes/journal_reopen/start/",
        {
            "journal": journal.pk,
            "wrong_entry_date": "2026-09-10",
            "reason_category": "other",
            "reason": "Ещё одна попытка исправить",
        },
        format="json",
    )
    assert again.status_code == 409


def test_every_step_has_an_sla_reminder_and_escalation_to_the_head_of_or(demo: None) -> None:
    instance = start(own_closed_journal())
    task = HumanTask.objects.get(instance_id=instance["id"], status="open")
    assert task.due_at is not None
    with time_machine.travel(task.due_at + timedelta(minutes=1)):
        workflow.timers_fire_due()
    assert HistoryEvent.objects.filter(instance_id=instance["id"], kind="reminder").exists()
    escalated = HistoryEvent.objects.get(instance_id=instance["id"], kind="escalated")
    assert escalated.payload["to"] == ["registrar_head1"]
    assert task_of(instance["id"], "registrar_head1", "head_visa")
    assert user("registrar_head1").pk in task.candidates.values_list("user_id", flat=True)


def test_a_step_of_a_teacher_who_has_left_goes_to_the_head_of_department(demo: None) -> None:
    from backend.accounts.models import User

    instance = start(own_closed_journal())
    User.objects.filter(username="teacher1").update(is_active=False)
    act(instance["id"], "department_head1", "head_visa", decision="return", comment="Уточните причину")
    revise = HumanTask.objects.get(instance_id=instance["id"], spec_id="revise", status="open")
    assert revise.assignee is None
    assert list(revise.candidates.values_list("user__username", flat=True)) == ["department_head1"]
