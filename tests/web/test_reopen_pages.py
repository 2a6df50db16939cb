"""The journal reopen pages as a teacher and the Registrar office use them."""

import pytest
from django.test import Client

from backend.academics.models import Journal, JournalMark
from backend.reopen.models import ReopenRequest
from tests.reopen.test_procedure import act, approve_visas

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo")
    return client


def test_a_teacher_files_a_request_from_the_page_and_corrects_marks_when_reopened(demo: None) -> None:
    teacher = login("teacher1")
    assert "Journal reopening" in teacher.get("/").content.decode()
    form = teacher.get("/reopen/new/")
    assert form.status_code == 200
    journal = Journal.objects.filter(
        teacher__username="teacher1", status="closed", period__academic_year="2026-2027", lesson_type="practical"
    ).first()
    independent = Journal.objects.get(
        teacher__username="teacher1", discipline=journal.discipline, group=journal.group, lesson_type="independent"
    )
    assert str(journal.pk) in form.content.decode()

    bad = teacher.post(
        "/reopen/new/",
        {"journal": journal.pk, "wrong_entry_date": "2026-09-10", "reason_category": "other", "reason": "short"},
    )
    assert bad.status_code == 200
    assert "at least 10 characters" in bad.content.decode()

    sent = teacher.post(
        "/reopen/new/",
        {
            "journal": journal.pk,
            "lesson_types": ["practical", "independent"],
            "wrong_entry_date": "2026-09-10",
            "reason_category": "wrong_grade",
            "reason": "Оценки за практику и СРОП перепутаны",
        },
    )
    assert sent.status_code == 302
    reopen = ReopenRequest.objects.get(teacher__username="teacher1")
    assert set(reopen.journals.all()) == {journal, independent}
    detail = teacher.get(sent["Location"])
    assert "collecting visas" in detail.content.decode()

    approve_visas(reopen.instance_id)
    mark = JournalMark.objects.filter(journal=independent).first()
    page = teacher.get(f"/reopen/{reopen.pk}/")
    assert "open for corrections" in page.content.decode()
    changed = teacher.post(
        f"/reopen/{reopen.pk}/",
        {
            "journal": independent.pk,
            "student": mark.student_id,
            "lesson_date": mark.lesson_date.isoformat(),
            "value": "н/б" if mark.value != "н/б" else "90",
        },
    )
    assert changed.status_code == 302
    assert reopen.changes.count() == 1

    # Others see the request of their department but cannot change marks.
    head = login("department_head1")
    assert head.get(f"/reopen/{reopen.pk}/").status_code == 200
    head.post(
        f"/reopen/{reopen.pk}/",
        {
            "journal": independent.pk,
            "student": mark.student_id,
            "lesson_date": mark.lesson_date.isoformat(),
            "value": "50",
        },
    )
    assert reopen.changes.count() == 1
    assert login("department_head3").get(f"/reopen/{reopen.pk}/").status_code == 404
    assert login("student1").get(f"/reopen/{reopen.pk}/").status_code == 404


def test_the_semester_report_page_and_exports(demo: None) -> None:
    journal = Journal.objects.filter(
        teacher__username="teacher1", status="closed", period__academic_year="2026-2027"
    ).first()
    from tests.reopen.test_procedure import start

    instance = start(journal)
    approve_visas(instance["id"])
    act(instance["id"], "teacher1", "corrections", done=True)
    registrar = login("registrar_head1")
    page = registrar.get("/reopen/report/", {"period": journal.period_id})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Department of Anatomy" in body or "Кафедра анатомии" in body or "Анатомия кафедрасы" in body
    csv = registrar.get("/reopen/report/", {"period": journal.period_id, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "Әбдіғалиева Гүлнұр Қайратқызы" in csv.content.decode("utf-8-sig")
    xlsx = registrar.get("/reopen/report/", {"period": journal.period_id, "format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert login("teacher1").get("/reopen/report/").status_code == 403
    assert login("auditor1").get("/reopen/report/").status_code == 200
