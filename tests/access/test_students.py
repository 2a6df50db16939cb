"""The dean's office asks for a whole group: one request, one account per student, each with its own link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from backend.academics.models import Student, StudyGroup
from backend.access.models import AccessEntry, AccessRequest, BatchProgress
from backend.accounts.models import OrgUnit, RoleAssignment
from backend.workflow import services as workflow
from backend.workflow.models import ProcessInstance
from tests.access.conftest import act, activate, links_to, open_specs, start
from tests.conftest import api_as, user
from tests.factories import SpecialtyFactory, StudentFactory, StudyGroupFactory

pytestmark = pytest.mark.django_db

NAMES = [("Сәтбаев", "Қанат"), ("Нұрланова", "Әйгерім"), ("Ғалымжанов", "Ерлан"), ("Щукина", "Юлия")]


@pytest.fixture
def new_group(demo: None) -> StudyGroup:
    """A first-year group of the school of medicine: four students with e-mails, one without, one whose IIN
    already has an account."""
    group = StudyGroupFactory(
        name="ЖМ-26-09", specialty=SpecialtyFactory(school=OrgUnit.objects.get(code="school-medicine"))
    )
    for number, (last, first) in enumerate(NAMES, start=1):
        StudentFactory(group=group, last_name=last, first_name=first, email=f"s{number}@student.kaznmu.kz")
    StudentFactory(group=group, last_name="Оспанов", first_name="Дәулет", email="")
    StudentFactory(
        group=group, last_name="Жұмабек", first_name="Ділназ", email="d.zh@student.kaznmu.kz", iin=user("teacher2").iin
    )
    return group


def test_one_request_gives_every_student_an_account_with_its_own_link(
    new_group: StudyGroup, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        instance = start("dean_office1", {"kind": "students", "group": new_group.pk})
    access = AccessRequest.objects.get(instance_id=instance["id"])
    progress = api_as("dean_office1").get(f"/api/access/requests/{access.pk}/progress/").json()
    assert (progress["state"], progress["percent"], progress["total"]) == ("finished", 100, 6)
    assert (progress["done"], progress["skipped"]) == (4, 2)

    students = Student.objects.filter(group=new_group).select_related("user")
    created = [s for s in students if s.user is not None]
    assert sorted(s.user.username for s in created) == ["a.nurlanova", "q.satbayev", "y.galymjanov", "y.shchukina"]
    for student in created:
        assert RoleAssignment.objects.filter(
            user=student.user, role="student", org_unit__code="school-medicine"
        ).exists()
    skipped = {e.last_name: e.note for e in access.entries.filter(status=AccessEntry.Status.SKIPPED)}
    assert set(skipped) == {"Оспанов", "Жұмабек"}
    assert "teacher2" in skipped["Жұмабек"]  # the existing account is named, never silently reused

    tokens = [links_to(f"s{n}@student.kaznmu.kz") for n in range(1, 5)]
    assert all(len(t) == 1 for t in tokens)
    assert len({t[0] for t in tokens}) == 4
    assert open_specs(instance["id"]) == []  # the case waits for the activations, nobody has a task
    for token in tokens[:3]:
        activate(token[0])
    assert ProcessInstance.objects.get(pk=instance["id"]).status == "running"
    activate(tokens[3][0])
    access.refresh_from_db()
    assert access.stage == "completed"


def test_the_page_polls_progress_while_the_job_runs(new_group: StudyGroup) -> None:
    """Before the job has run (the web process never does the work) the progress says queued, 0%."""
    instance = start("dean_office1", {"kind": "students", "group": new_group.pk})
    access = AccessRequest.objects.get(instance_id=instance["id"])
    progress = api_as("dean_office1").get(f"/api/access/requests/{access.pk}/progress/").json()
    assert (progress["state"], progress["percent"]) == ("queued", 0)
    assert not Student.objects.filter(group=new_group, user__isnull=False).exists()


def test_expired_links_go_back_to_the_deans_office(
    new_group: StudyGroup, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        instance = start("dean_office1", {"kind": "students", "group": new_group.pk})
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        workflow.timers_fire_due()
        assert open_specs(instance["id"]) == ["expired_dean"]
        with django_capture_on_commit_callbacks(execute=True):
            act(instance["id"], "dean_office1", "expired_dean", decision="resend")
        assert len(links_to("s1@student.kaznmu.kz")) == 2


def test_only_the_deans_office_of_the_groups_school(new_group: StudyGroup) -> None:
    assert start("dean_office2", {"kind": "students", "group": new_group.pk}, status=403)["fields"] == {
        "group": ["This group is not of your school."]
    }
    start("department_head1", {"kind": "students", "group": new_group.pk}, status=403)
    full = StudyGroup.objects.get(name="ЖМ-24-01")  # every demo student has an account
    assert "group" in start("dean_office1", {"kind": "students", "group": full.pk}, status=400)["fields"]
    assert not BatchProgress.objects.exists()


def test_a_closed_groups_unactivated_accounts_are_invited_again_by_a_new_request(
    new_group: StudyGroup, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = start("dean_office1", {"kind": "students", "group": new_group.pk})
    activate(links_to("s1@student.kaznmu.kz")[0])
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        workflow.timers_fire_due()
        act(first["id"], "dean_office1", "expired_dean", decision="close")
    closed = AccessRequest.objects.get(instance_id=first["id"])
    assert closed.stage == "closed"
    assert not Student.objects.get(group=new_group, email="s2@student.kaznmu.kz").user.is_active

    with django_capture_on_commit_callbacks(execute=True):
        second = start("dean_office1", {"kind": "students", "group": new_group.pk})
    again = AccessRequest.objects.get(instance_id=second["id"])
    invited = again.entries.filter(status=AccessEntry.Status.INVITED).select_related("account")
    assert sorted(e.account.username for e in invited) == ["a.nurlanova", "y.galymjanov", "y.shchukina"]
    assert links_to("s2@student.kaznmu.kz")[-1] != links_to("s2@student.kaznmu.kz")[0]
    activate(links_to("s2@student.kaznmu.kz")[-1])
    assert Student.objects.get(group=new_group, email="s2@student.kaznmu.kz").user.is_active
