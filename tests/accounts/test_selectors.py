"""Who holds role R for unit U: scope, validity, substitutions, deputies, separation of duties."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import OrgUnit, User
from backend.accounts.selectors import role_holders, units_where, user_has_role
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, SubstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def names(holders: list) -> list[str]:
    return sorted(h.user.username for h in holders)


def test_the_department_head_is_the_head_of_that_department_not_any_head(demo: None) -> None:
    assert names(role_holders(role="department_head", org_unit=unit("dept-anatomy"))) == ["department_head1"]
    assert names(role_holders(role="department_head", org_unit=unit("dept-chemistry"))) == ["department_head3"]


def test_a_school_role_answers_for_departments_below_it_and_university_roles_for_everything(
    demo: None,
) -> None:
    assert names(role_holders(role="dean_curation", org_unit=unit("dept-anatomy"))) == ["dean_curation1"]
    assert names(role_holders(role="school_dean", org_unit=unit("dept-pharmacology"))) == ["school_dean2"]
    assert names(role_holders(role="vice_rector", org_unit=unit("dept-chemistry"))) == ["vice_rector1"]


def test_an_assignment_outside_its_validity_does_not_count(demo: None) -> None:
    department = OrgUnitFactory(parent=unit("school-medicine"))
    today = timezone.localdate()
    RoleAssignmentFactory(
        role="department_head",
        org_unit=department,
        valid_from=today - timedelta(days=30),
        valid_to=today - timedelta(days=1),
    )
    current = RoleAssignmentFactory(role="department_head", org_unit=department, valid_from=today)
    assert names(role_holders(role="department_head", org_unit=department)) == [current.user.username]
    assert names(role_holders(role="department_head", org_unit=department, on=today - timedelta(days=5))) != [
        current.user.username
    ]


def test_an_inactive_person_holds_nothing(demo: None) -> None:
    User.objects.filter(username="department_head2").update(is_active=False)
    assert role_holders(role="department_head", org_unit=unit("dept-internal")) == []


def test_an_acting_head_holds_the_role_during_the_substitution_only(demo: None) -> None:
    head = User.objects.get(username="department_head2")
    acting = UserFactory(username="acting_head")
    today = timezone.localdate()
    SubstitutionFactory(absent=head, substitute=acting, starts_on=today, ends_on=today + timedelta(days=10))
    holders = role_holders(role="department_head", org_unit=unit("dept-internal"))
    assert names(holders) == ["acting_head", "department_head2"]
    assert next(h for h in holders if h.user == acting).acting_for == head
    assert names(
        role_holders(role="department_head", org_unit=unit("dept-internal"), on=today + timedelta(days=11))
    ) == ["department_head2"]
    assert unit("dept-internal") in units_where(acting, "department_head")


def test_a_substitution_for_another_role_does_not_count(demo: None) -> None:
    head = User.objects.get(username="department_head2")
    SubstitutionFactory(absent=head, substitute=UserFactory(username="sub"), role="teacher")
    assert names(role_holders(role="department_head", org_unit=unit("dept-internal"))) == ["department_head2"]


def test_separation_of_duties_passes_to_the_deputy_then_the_level_above(demo: None) -> None:
    head = User.objects.get(username="department_head1")
    # The anatomy department has a deputy head (teacher2): they act when the head may not.
    assert names(role_holders(role="department_head", org_unit=unit("dept-anatomy"), exclude={head.pk})) == ["teacher2"]
    # Without a deputy the task goes to the level above: the dean in charge of curation.
    holders = role_holders(
        role="department_head",
        org_unit=unit("dept-internal"),
        exclude={User.objects.get(username="department_head2").pk},
    )
    assert names(holders) == ["dean_curation1"]
    assert holders[0].escalated_from == "department_head"


def test_deputies_do_not_act_while_the_head_can(demo: None) -> None:
    assert "teacher2" not in names(role_holders(role="department_head", org_unit=unit("dept-anatomy")))


def test_user_has_role(demo: None) -> None:
    assert user_has_role(User.objects.get(username="registrar_head1"), "registrar_head")
    assert not user_has_role(User.objects.get(username="teacher1"), "registrar_head")
