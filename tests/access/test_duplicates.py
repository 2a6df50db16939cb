"""No silent duplicates: an e-mail or IIN that already has an account goes to IT, who reuse it or refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from backend.academics.models import Journal
from backend.access.models import AccessEntry, AccessRequest
from backend.accounts.models import RoleAssignment, User
from backend.workflow.deployment import deploy_file
from backend.workflow.models import HistoryEvent, ProcessInstance
from tests.access.conftest import act, activate, approved, links_to, open_specs, teacher
from tests.conftest import api_as, user
from tests.workflow.conftest import diagram_with_renamed_steps

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


def events(instance_id: int, name: str) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in HistoryEvent.objects.filter(instance_id=instance_id, kind="note").order_by("seq")
        if e.payload.get("event") == name
    ]


def test_an_existing_email_is_shown_to_it_who_reuse_the_account(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    known = user("teacher4")  # teaches in the department of internal diseases
    instance_id = approved(django_capture_on_commit_callbacks, teacher(1, email=known.email.upper()))
    assert open_specs(instance_id) == ["duplicates"]
    detail = api_as("it_staff1").get(f"/api/access/requests/{AccessRequest.objects.get(instance_id=instance_id).pk}/")
    entry = detail.json()["entries"][0]
    assert (entry["status"], entry["match"], entry["matched_by"]) == ("matched", "teacher4", ["email"])
    task = api_as("it_staff1").get("/api/tasks/", {"process": "login_request"}).json()["results"][0]
    assert api_as("it_staff1").get(f"/api/tasks/{task['id']}/").json()["process_data"]["matches"] == 1
    assert events(instance_id, "existing_account_found")[0]["account"] == "teacher4"
    page = Client()
    assert page.login(username="it_staff1", password="demo")
    html = page.get(f"/tasks/{task['id']}/").content.decode()  # the inbox shows the form with its choices
    assert "Reuse the existing account (add the role)" in html
    assert "Refuse for these people" in html

    with django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "duplicates", decision="reuse")
    assert User.objects.filter(email__iexact=known.email).count() == 1  # no second account
    assert RoleAssignment.objects.filter(user=known, role="teacher", org_unit__code="dept-anatomy").exists()
    access = AccessRequest.objects.get(instance_id=instance_id)
    assert access.entries.get().status == AccessEntry.Status.ACTIVE
    # An active account keeps its password: no activation link, a notice instead, and the case is done.
    assert links_to(known.email) == []
    notice = next(m for m in mail.outbox if known.email in m.to)
    assert "teacher4" in notice.body
    assert ProcessInstance.objects.get(pk=instance_id).status == "completed"
    assert events(instance_id, "account_reused")[0]["username"] == "teacher4"


def test_an_existing_iin_refused_by_it_the_others_are_created(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    taken_iin = user("student5").iin
    instance_id = approved(django_capture_on_commit_callbacks, teacher(1), teacher(2, iin=taken_iin))
    refused = act(instance_id, "it_staff1", "duplicates", status=400, decision="refuse")
    assert refused["fields"] == {"comment": ["This field is required."]}
    with django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "duplicates", decision="refuse", comment="Это студент, не преподаватель")
    access = AccessRequest.objects.get(instance_id=instance_id)
    statuses = {e.last_name: e.status for e in access.entries.all()}
    assert statuses == {"Әбдіғалиева": "invited", "Щербаков": "refused"}
    assert not User.objects.filter(last_name="Щербаков").exists()
    assert events(instance_id, "existing_account_refused")[0]["account"] == "student5"
    activate(links_to("g.abdigaliyeva@new.kaznmu.kz")[0])
    access.refresh_from_db()
    assert access.stage == "completed"


def test_journals_are_handed_over_to_the_new_account(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    journal = Journal.objects.filter(discipline__department__code="dept-anatomy", status="open").first()
    previous = journal.teacher.username
    instance_id = approved(django_capture_on_commit_callbacks, teacher(1, journals=[journal.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "provision_task", done=True)
    journal.refresh_from_db()
    assert journal.teacher.username == "g.abdigaliyeva"
    handed = events(instance_id, "journal_handed_over")[0]
    assert (handed["journal"], handed["from"], handed["to"]) == (journal.pk, previous, "g.abdigaliyeva")


def test_a_second_account_with_the_same_name_gets_a_number(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    User.objects.create(username="g.abdigaliyeva", last_name="Әбдіғалиева", first_name="Гаухар")
    instance_id = approved(django_capture_on_commit_callbacks, teacher(1))
    with django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "provision_task", done=True)
    entry = AccessRequest.objects.get(instance_id=instance_id).entries.get()
    assert entry.account.username == "g.abdigaliyeva2"


def test_the_decision_on_existing_accounts_is_found_by_its_purpose_not_its_id(
    demo: None, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    # Given the login request diagram with IT's decision on existing accounts renamed in a modeler
    source = Path(__file__).resolve().parents[2] / "bpmn" / "login_request.bpmn"
    deploy_file(diagram_with_renamed_steps(source, tmp_path, {"duplicates": "decide_on_known_people"}))
    taken_iin = user("student5").iin
    instance_id = approved(django_capture_on_commit_callbacks, teacher(1), teacher(2, iin=taken_iin))
    assert open_specs(instance_id) == ["decide_on_known_people"]

    # When IT refuse the person whose IIN is taken
    with django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "decide_on_known_people", decision="refuse", comment="Это студент")

    # Then provisioning followed that decision: the other person is invited, nobody's account is duplicated
    access = AccessRequest.objects.get(instance_id=instance_id)
    assert {e.last_name: e.status for e in access.entries.all()} == {"Әбдіғалиева": "invited", "Щербаков": "refused"}
    assert access.stage == "activation"
