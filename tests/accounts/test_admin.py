"""/admin/ cannot be turned against the product: each role tries each escalation, pages and direct POSTs."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.accounts.models import RoleAssignment, User
from backend.accounts.roles import Role

pytestmark = pytest.mark.django_db

REGISTRARS = ("registrar_head1", "registrar_inspector1")


def admin_as(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def person_form(user: User, **extra: str) -> dict[str, str]:
    """What the change page of a person posts, plus whatever a forger adds."""
    return {
        "username": user.username,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "patronymic": user.patronymic,
        "email": user.email,
        "iin": user.iin or "",
        "position": user.position,
        "language": user.language,
        "is_active": "on",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        **extra,
    }


@pytest.mark.parametrize("username", REGISTRARS)
def test_a_registrar_edits_a_teachers_name_and_contacts(demo: None, username: str) -> None:
    teacher = User.objects.get(username="teacher1")
    page = admin_as(username).get(change_url(teacher))
    assert page.status_code == 200
    html = page.content.decode()
    for hidden in ("is_superuser", "is_staff", "user_permissions", "id_groups", "../password/"):
        assert hidden not in html, hidden

    saved = admin_as(username).post(change_url(teacher), person_form(teacher, email="new.mail@demo.qujat.kz"))
    assert saved.status_code == 302
    teacher.refresh_from_db()
    assert teacher.email == "new.mail@demo.qujat.kz"


@pytest.mark.parametrize("username", REGISTRARS)
def test_a_forged_post_cannot_make_anyone_superuser_staff_or_give_groups(demo: None, username: str) -> None:
    from django.contrib.auth.models import Group

    teacher = User.objects.get(username="teacher1")
    registrars = Group.objects.get(name="Registrar office")
    forged = person_form(teacher, is_superuser="on", is_staff="on", groups=str(registrars.pk))
    admin_as(username).post(change_url(teacher), forged)
    teacher.refresh_from_db()
    assert not teacher.is_superuser
    assert not teacher.is_staff
    assert not teacher.groups.exists()

    # Nor on their own account
    me = User.objects.get(username=username)
    admin_as(username).post(change_url(me), person_form(me, is_superuser="on"))
    me.refresh_from_db()
    assert not me.is_superuser


@pytest.mark.parametrize("username", REGISTRARS)
def test_a_registrar_cannot_touch_the_superuser_or_set_anyones_password(demo: None, username: str) -> None:
    superuser = User.objects.get(username="admin")
    teacher = User.objects.get(username="teacher1")
    client = admin_as(username)
    # The superuser's page is read-only at most
    assert 'name="email"' not in client.get(change_url(superuser)).content.decode()
    client.post(change_url(superuser), person_form(superuser, email="mine@evil.example"))
    superuser.refresh_from_db()
    assert superuser.email != "mine@evil.example"

    for target in (superuser, teacher):
        url = f"/admin/accounts/user/{target.pk}/password/"
        assert client.get(url).status_code == 403
        before = target.password
        client.post(url, {"password1": "Escalated-1234", "password2": "Escalated-1234"})
        target.refresh_from_db()
        assert target.password == before


@pytest.mark.parametrize("username", REGISTRARS)
def test_a_registrar_gives_roles_but_never_the_administrator_role_nor_to_themselves(demo: None, username: str) -> None:
    teacher = User.objects.get(username="teacher1")
    me = User.objects.get(username=username)
    university = teacher.roles.first().org_unit  # type: ignore[union-attr]
    client = admin_as(username)

    def assign(user: User, role: str) -> int:
        return client.post(
            "/admin/accounts/roleassignment/add/",
            {"user": user.pk, "role": role, "org_unit": university.pk, "valid_from": "2026-01-01"},
        ).status_code

    assert assign(teacher, Role.DEPARTMENT_HEAD) == 302
    assert RoleAssignment.objects.filter(user=teacher, role=Role.DEPARTMENT_HEAD).exists()
    assign(teacher, Role.ADMINISTRATOR)
    assign(me, Role.REGISTRAR_HEAD if username != "registrar_head1" else Role.VICE_RECTOR)
    assert not RoleAssignment.objects.filter(user=teacher, role=Role.ADMINISTRATOR).exists()
    assert (
        not RoleAssignment.objects.filter(user=me, role__in=[Role.REGISTRAR_HEAD, Role.VICE_RECTOR])
        .exclude(role=Role.REGISTRAR_HEAD, user__username="registrar_head1")
        .exists()
    )


def test_the_group_and_permission_pages_are_for_superusers_only(demo: None) -> None:
    for username in (*REGISTRARS, "teacher1", "auditor1"):
        client = admin_as(username)
        assert client.get("/admin/auth/group/").status_code in (302, 403), username
        assert client.get("/admin/auth/group/add/").status_code in (302, 403), username


@pytest.mark.parametrize("username", ["teacher1", "student1", "auditor1", "it_head1", "department_head1"])
def test_people_without_admin_access_get_nothing(demo: None, username: str) -> None:
    teacher = User.objects.get(username="teacher1")
    client = admin_as(username)
    assert client.get(change_url(teacher)).status_code == 302  # to the admin's login
    client.post(change_url(teacher), person_form(teacher, is_superuser="on"))
    teacher.refresh_from_db()
    assert not teacher.is_superuser


def test_a_superuser_still_manages_access(demo: None) -> None:
    teacher = User.objects.get(username="teacher1")
    client = admin_as("admin")
    html = client.get(change_url(teacher)).content.decode()
    assert "is_superuser" in html
    assert client.get(f"/admin/accounts/user/{teacher.pk}/password/").status_code == 200
