"""The personal cabinet and the Registrar office's transcript pages."""

import pytest
from django.test import Client

from backend.transcripts.models import TranscriptRequest
from tests.transcripts.test_issuance import act, sign

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo")
    return client


def test_a_student_requests_follows_downloads_and_staff_see_the_registry(demo: None) -> None:
    student = login("student1")
    assert "Transcripts" in student.get("/").content.decode()
    form = student.get("/transcripts/new/")
    assert form.status_code == 200
    empty = student.post(
        "/transcripts/new/", {"kind": "standard", "whole": "on", "reason": "", "language": "kk", "paper_copies": "0"}
    )
    assert empty.status_code == 200
    assert "This field is required." in empty.content.decode()
    sent = student.post(
        "/transcripts/new/",
        {
            "kind": "standard",
            "whole": "on",
            "reason": "Стипендия",
            "language": "kk",
            "electronic": "on",
            "paper_copies": "0",
        },
    )
    assert sent.status_code == 302
    request = TranscriptRequest.objects.get(student__user__username="student1")
    page = student.get(sent["Location"])
    assert "being checked by the Registrar office" in page.content.decode()
    assert "Withdraw the request" in page.content.decode()

    act(request.instance_id, "registrar_staff1", "review", decision="approve")
    request.refresh_from_db()
    page = student.get(f"/transcripts/{request.pk}/").content.decode()
    assert request.number in page  # numbered on approval, not yet signed: nothing to download
    assert "Download the signed PDF" not in page
    assert student.get(f"/transcripts/{request.pk}/pdf").status_code == 404
    sign(request.instance_id)
    page = student.get(f"/transcripts/{request.pk}/").content.decode()
    assert request.number in page
    assert "Download the signed PDF" in page
    pdf = student.get(f"/transcripts/{request.pk}/pdf?download=1")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    cabinet = student.get("/transcripts/").content.decode()
    assert f"Your transcript No. {request.number} is ready." in cabinet or request.number in cabinet

    assert login("student2").get(f"/transcripts/{request.pk}/").status_code == 404
    assert login("student2").get(f"/transcripts/{request.pk}/pdf").status_code == 404
    staff = login("registrar_staff2")
    assert request.number in staff.get("/transcripts/registry/").content.decode()
    assert staff.get("/transcripts/registry/?export=xlsx").content[:2] == b"PK"
    assert login("student1").get("/transcripts/registry/").status_code == 403


def test_the_batch_page_shows_progress(demo: None) -> None:
    staff = login("registrar_staff1")
    page = staff.get("/transcripts/batches/")
    assert page.status_code == 200
    assert "Transcripts for a whole group" in page.content.decode()
    assert login("student1").get("/transcripts/batches/").status_code == 403
