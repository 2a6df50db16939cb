"""A teacher leaves: the head of department asks, the head of IT approves, IT staff deactivate the account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from backend.academics.models import Journal
from backend.access.models import AccessRequest
from backend.accounts.models import OrgUnit, RoleAssignment
from backend.accounts.services import api_token_issue
from backend.workflow.models import HistoryEvent, HumanTask
from tests.access.conftest import act, open_specs, start
from tests.conftest import api_as, user
from tests.factories import RoleAssignmentFactory
from tests.reopen.test_procedure import act as reopen_act
from tests.reopen.test_procedure import start as reopen_start

pytestmark = pytest.mark.django_db


def test_a_deactivated_teacher_is_locked_out_at_once_and_their_tasks_go_to_the_head(demo: None) -> None:
    leaving = user("teacher1")
    # teacher1 has a task open: their reopen request came back for revision.
    cutoff = timezone.now() - timedelta(days=3)
    journal = Journal.objects.filter(
        teacher=leaving,
        status="closed",
        lesson_type="practical",
        period__academic_year="2026-2027",
        closed_at__gte=cutoff,
    ).first()
    reopen = reopen_start(journal)
    reopen_act(reopen["id"], "department_head1", "head_visa", decision="return", comment="Уточните дату")
    revise = HumanTask.objects.get(instance_id=reopen["id"], status="open")
    assert revise.assignee == leaving

    token = api_token_issue(user=leaving)
    browser = Client()
    assert browser.login(username="teacher1", password="demo")
    assert browser.get("/api/me/").status_code == 200
    api = api_as("teacher1")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/me/").status_code == 200

    refused = start("department_head2", {"kind": "offboarding", "account": "teacher1", "reason": "Уволен"}, status=403)
    assert refused["fields"] == {"account": ["This person is not a teacher of your department."]}
    instance = start(
        "department_head1",
        {"kind": "offboarding", "account": "teacher1", "reason": "Увольнение по собственному желанию"},
    )
    assert open_specs(instance["id"]) == ["approve"]
    act(instance["id"], "it_head1", "approve", decision="approve")
    assert open_specs(instance["id"]) == ["deactivate_task"]
    act(instance["id"], "it_staff1", "deactivate_task", done=True)

    leaving.refresh_from_db()
    assert not leaving.is_active
    assert api.get("/api/me/").status_code == 401  # the live token is refused on the very next request
    assert browser.get("/api/me/").status_code in (401, 403)
    assert not any(s.get_decoded().get("_auth_user_id") == str(leaving.pk) for s in Session.objects.all())
    assert not RoleAssignment.objects.filter(user=leaving, valid_to__isnull=True).exists()

    revise.refresh_from_db()
    assert revise.assignee == user("department_head1")
    moved = HistoryEvent.objects.filter(instance_id=reopen["id"], kind="delegated").get()
    assert moved.payload == {
        "task": revise.pk,
        "to": "department_head1",
        "from": "teacher1",
        "reason": "account_deactivated",
    }
    assert revise in HumanTask.objects.filter(
        pk__in=[t["id"] for t in api_as("department_head1").get("/api/tasks/").json()["results"]]
    )
    access = AccessRequest.objects.get(instance_id=instance["id"])
    assert access.stage == "deactivated"
    note = next(
        e
        for e in HistoryEvent.objects.filter(instance_id=instance["id"], kind="note")
        if e.payload.get("event") == "account_deactivated"
    )
    assert note.payload["tasks_moved"] == 1
    assert note.payload["api_tokens_revoked"] >= 1


def test_a_teacher_cannot_ask_to_deactivate_anyone(demo: None) -> None:
    start("teacher1", {"kind": "offboarding", "account": "teacher2", "reason": "Не работает"}, status=403)
    twice = {"kind": "offboarding", "account": "teacher2", "reason": "Переход в другой вуз"}
    start("department_head1", twice)
    assert start("department_head1", twice, status=409)["fields"] == {"account": ["Already being deactivated."]}


def test_a_head_of_two_departments_asks_for_the_one_the_teacher_teaches_in_now(demo: None) -> None:
    """A teacher who once taught in the head's first department and teaches in the second one now."""
    head, leaving = user("department_head1"), user("teacher4")  # teacher4 teaches internal diseases
    anatomy, internal = OrgUnit.objects.get(code="dept-anatomy"), OrgUnit.objects.get(code="dept-internal")
    RoleAssignmentFactory(user=head, role="department_head", org_unit=internal)
    RoleAssignmentFactory(user=leaving, org_unit=anatomy, valid_to=timezone.localdate() - timedelta(days=30))
    instance = start(
        "department_head1", {"kind": "offboarding", "account": "teacher4", "reason": "Переход в другой вуз"}
    )
    assert AccessRequest.objects.get(instance_id=instance["id"]).department == internal
