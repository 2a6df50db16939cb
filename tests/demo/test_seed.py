"""The demo university has what the brief promises."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from backend.academics.models import FinalGrade, Journal, Student, StudyGroup
from backend.accounts.models import OrgUnit, RoleAssignment, User
from backend.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_the_demo_university_has_its_schools_departments_people_and_records(demo: None) -> None:
    assert OrgUnit.objects.filter(kind="school").count() == 2
    assert OrgUnit.objects.filter(kind="department").count() == 4
    assert RoleAssignment.objects.filter(role="teacher", user__username__startswith="teacher").count() == 10
    assert Student.objects.count() == 60
    assert StudyGroup.objects.count() == 4
    assert FinalGrade.objects.filter(is_retake=True).exists()
    assert Journal.objects.filter(status="closed", period__academic_year="2026-2027").exists()
    assert Student.objects.filter(status="graduated").exists()


def test_every_role_has_a_demo_login(demo: None) -> None:
    for role in Role.values:
        if role == "administrator":
            assert User.objects.filter(username="admin", is_superuser=True).exists()
            continue
        if role == "seal_custodian":  # an extra duty: the head of the Registrar office keeps the e-seal
            assert RoleAssignment.objects.filter(user__username="registrar_head1", role=role).exists(), role
            continue
        assert User.objects.filter(username=f"{role}1").exists(), role
        assert RoleAssignment.objects.filter(user__username=f"{role}1", role=role).exists(), role


@override_settings(QUJAT_DEMO=False)
def test_seed_demo_refuses_outside_the_demo() -> None:
    with pytest.raises(CommandError, match="QUJAT_DEMO"):
        call_command("seed_demo")
