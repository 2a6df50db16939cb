"""The login request pages as heads of department, the dean's office, IT and new account holders use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from backend.academics.models import StudyGroup
from backend.access.models import AccessRequest
from backend.accounts.models import OrgUnit, User
from backend.workflow.models import ProcessInstance
from tests.access.conftest import links_to, teacher
from tests.factories import SpecialtyFactory, StudentFactory, StudyGroupFactory

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo")
    return client


def teacher_row(index: int, person: dict[str, Any]) -> dict[str, Any]:
    return {f"teachers-{index}-{k}": v for k, v in person.items()}


def management(total: int) -> dict[str, Any]:
    return {"teachers-TOTAL_FORMS": total, "teachers-INITIAL_FORMS": 0, "teachers-MIN_NUM_FORMS": 1}


@pytest.fixture
def group(demo: None) -> StudyGroup:
    school = OrgUnit.objects.get(code="school-medicine")
    group = StudyGroupFactory(name="ЖМ-26-07", specialty=SpecialtyFactory(school=school))
    StudentFactory(group=group, last_name="Сейітқали", first_name="Мадина", email="m.s@student.kaznmu.kz")
    StudentFactory(group=group, last_name="Бекова", first_name="Әлия", email="a.b@student.kaznmu.kz")
    return group


def test_a_head_files_a_request_for_teachers_from_the_page(demo: None) -> None:
    head = login("department_head1")
    assert "Login requests" in head.get("/").content.decode()
    page = head.get("/access/new/")
    assert page.status_code == 200
    assert 'for="id_teachers-0-last_name"' in page.content.decode()

    more = head.post(
        "/access/new/", {"department": "dept-anatomy", **management(1), **teacher_row(0, teacher(1)), "add": "1"}
    )
    html = more.content.decode()
    assert "Teacher 2" in html
    assert "Әбдіғалиева" in html
    assert "invalid-feedback" not in html

    bad = head.post(
        "/access/new/",
        {"department": "dept-anatomy", **management(1), **teacher_row(0, teacher(1, first_name="Г.", email="x"))},
    )
    html = bad.content.decode()
    assert bad.status_code == 200
    assert "Write the name in full, not as an initial." in html
    assert 'aria-invalid="true"' in html
    assert not AccessRequest.objects.exists()

    sent = head.post(
        "/access/new/",
        {"department": "dept-anatomy", **management(2), **teacher_row(0, teacher(1)), **teacher_row(1, teacher(2))},
    )
    assert sent.status_code == 302, sent.content.decode()[:3000]
    detail = head.get(sent["Location"]).content.decode()
    assert "memo to be signed" in detail
    assert "Your task: Sign the memo" in detail
    assert "Щербаков Юрий Фёдорович" in detail


def test_pages_refuse_people_who_may_not_use_them(demo: None) -> None:
    teacher_client = login("teacher1")
    assert teacher_client.get("/access/new/").status_code == 403
    assert teacher_client.get("/access/students/new/").status_code == 403
    assert teacher_client.get("/access/accounts/").status_code == 403
    assert "Login requests" not in teacher_client.get("/").content.decode()
    assert login("it_staff1").get("/access/accounts/").status_code == 200


def test_a_deans_office_follows_the_progress_and_a_student_sets_a_password(
    group: StudyGroup, django_capture_on_commit_callbacks: Any
) -> None:
    office = login("dean_office1")
    assert str(group.pk) in office.get("/access/students/new/").content.decode()
    sent = office.post("/access/students/new/", {"group": group.pk})
    assert sent.status_code == 302
    access = AccessRequest.objects.get()
    queued = office.get(f"/access/{access.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in queued
    assert 'aria-valuenow="0"' in queued

    from backend.access.group_accounts import group_accounts_create

    with django_capture_on_commit_callbacks(execute=True):
        group_accounts_create(request_id=access.pk)
    done = office.get(f"/access/{access.pk}/progress/").content.decode()
    assert 'aria-valuenow="100"' in done
    assert "hx-trigger" not in done
    assert "m.seiitqali" in office.get(f"/access/{access.pk}/").content.decode()

    student = User.objects.get(username="m.seiitqali")
    student.language = "kk"
    student.save()
    token = links_to("m.s@student.kaznmu.kz")[0]
    anonymous = Client()
    page = anonymous.get(f"/access/activate/{token}/")
    assert page.status_code == 200
    assert '<html lang="kk">' in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert '<html lang="en">' in anonymous.get(f"/access/activate/{token}/?lang=en").content.decode()

    mismatch = anonymous.post(
        f"/access/activate/{token}/?lang=en", {"password": "Zhibek-Zholy-77", "password_again": "Zhibek-Zholy-78"}
    )
    assert mismatch.status_code == 400
    assert "The two passwords differ." in mismatch.content.decode()
    weak = anonymous.post(
        f"/access/activate/{token}/?lang=en", {"password": "1234567890", "password_again": "1234567890"}
    )
    assert "This password is entirely numeric." in weak.content.decode()
    assert not User.objects.get(username="m.seiitqali").has_usable_password()

    done = anonymous.post(
        f"/access/activate/{token}/?lang=en", {"password": "Zhibek-Zholy-77", "password_again": "Zhibek-Zholy-77"}
    )
    assert 'data-testid="activated"' in done.content.decode()
    assert Client().login(username="m.seiitqali", password="Zhibek-Zholy-77")
    again = anonymous.get(f"/access/activate/{token}/?lang=en")
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert ProcessInstance.objects.get(pk=access.instance_id).status == "running"  # one student still to go


def test_a_head_asks_to_deactivate_from_the_page(demo: None) -> None:
    head = login("department_head1")
    page = head.get("/access/offboarding/new/").content.decode()
    assert "teacher1" in page
    assert "teacher4" not in page
    bad = head.post("/access/offboarding/new/", {"account": "teacher1", "reason": ""})
    assert "This field is required." in bad.content.decode()
    sent = head.post("/access/offboarding/new/", {"account": "teacher1", "reason": "Переход в другой вуз"})
    assert sent.status_code == 302
    assert "with the head of IT" in head.get(sent["Location"]).content.decode()
