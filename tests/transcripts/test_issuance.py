"""Transcript issuance through the REST API as the demo users."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from backend.transcripts.models import RegistryEntry, TranscriptRequest
from backend.workflow.models import HumanTask, ProcessInstance
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def request_transcript(username: str = "student1", **extra: Any) -> dict[str, Any]:
    body = {"reason": "Для стипендии & конкурса", "language": "kk", **extra}
    response = api_as(username).post("/api/processes/transcript_issuance/start/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def task_of(instance_id: int, username: str, spec: str) -> dict[str, Any]:
    tasks = api_as(username).get("/api/tasks/", {"process": "transcript_issuance", "page_size": 100}).json()["results"]
    mine = [t for t in tasks if t["instance"] == instance_id and t["task"] == spec]
    assert mine, f"{username} has no {spec} task"
    return mine[0]


def act(instance_id: int, username: str, spec: str, **data: Any) -> dict[str, Any]:
    task = task_of(instance_id, username, spec)
    # What the step queues after its commit (issuing a transcript) runs too, as the workers would run it.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_as(username).post(f"/api/tasks/{task['id']}/complete/", data, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def sign(instance_id: int, username: str = "registrar_head1", spec: str = "sign_registrar") -> dict[str, Any]:
    """The signer signs the transcript in their own task with their passphrase (the demo signers' is "demo")."""
    task = task_of(instance_id, username, spec)
    response = api_as(username).post(
        f"/api/tasks/{task['id']}/sign/", {"passphrase": "demo", "form": {"confirm": True}}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_requested_approved_numbered_signed_and_registered(demo: None) -> None:
    instance = request_transcript()
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert request.issued_at is None  # numbered and generated, waiting for its signer
    assert request.number.startswith("ТР-")
    assert not request.document.publication.signed_sha256
    sign(instance["id"])
    request.refresh_from_db()
    assert request.issued_at is not None
    assert request.number.startswith("ТР-")
    assert ProcessInstance.objects.get(pk=instance["id"]).status == "completed"
    entry = RegistryEntry.objects.get(request=request)
    assert entry.issued_by.username == "registrar_staff1"
    assert entry.signed_by.username == "registrar_head1"
    assert request.document.publication.signed_sha256


def pdf_text(data: bytes) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.converter
def test_the_issued_pdf_verifies_and_its_qr_leads_to_a_valid_page(demo: None, tmp_path: Any) -> None:
    import subprocess

    from django.test import Client

    from backend.signatures.services import trust_roots
    from signing.verify import verify_pdf

    instance = request_transcript(language="ru")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    sign(instance["id"])
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    pdf = api_as("student1").get(f"/api/transcripts/requests/{request.pk}/pdf/")
    assert pdf.status_code == 200
    data = b"".join(pdf.streaming_content)
    verdict = verify_pdf(pdf=data, trust_roots=trust_roots())
    assert verdict.valid
    assert verdict.signatures[0].signer.subject_common_name == "Измайлова Слу Хабибиевна"
    text = pdf_text(data)
    assert request.number in text
    assert request.student.full_name in text
    assert "Лист согласования и подписания" in text
    assert "Сыдыкова С.И." in text  # the staff member who approved
    assert "Измайлова С.Х." in text  # the signer, with her certificate data
    assert "IMPLICIT" not in text
    (tmp_path / "t.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "t.pdf"), str(tmp_path / "p")], check=True)
    urls = set()
    for page in tmp_path.glob("p*.png"):
        urls |= set(
            subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True).stdout.split()
        )
    [url] = urls
    page = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert "Valid" in page.content.decode()


def test_a_question_to_the_student_and_the_answer(demo: None) -> None:
    instance = request_transcript()
    missing = api_as("registrar_staff1").post(
        f"/api/tasks/{task_of(instance['id'], 'registrar_staff1', 'review')['id']}/complete/",
        {"decision": "return"},
        format="json",
    )
    assert missing.json()["fields"] == {"message": ["This field is required."]}
    act(instance["id"], "registrar_staff1", "review", decision="return", message="Для какой стипендии?")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    detail = api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()
    assert detail["stage"] == "question"
    act(instance["id"], "student1", "answer", answer="Для президентской стипендии")
    assert task_of(instance["id"], "registrar_staff2", "review")
    act(instance["id"], "registrar_staff2", "review", decision="approve")
    assert api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()["stage"] == "signing"
    sign(instance["id"])
    assert api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()["stage"] == "issued"


def test_a_refusal_gives_no_number(demo: None) -> None:
    instance = request_transcript()
    act(instance["id"], "registrar_staff1", "review", decision="refuse", message="Задолженность по оплате")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert request.number == ""
    assert not RegistryEntry.objects.exists()
    assert api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()["stage"] == "refused"


def test_the_student_may_withdraw_until_approval(demo: None) -> None:
    first = request_transcript()
    request = TranscriptRequest.objects.get(instance_id=first["id"])
    assert (
        api_as("student2").post(f"/api/transcripts/requests/{request.pk}/cancel/", {}, format="json").status_code == 404
    )
    withdrawn = api_as("student1").post(
        f"/api/transcripts/requests/{request.pk}/cancel/", {"reason": "не нужно"}, format="json"
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["stage"] == "cancelled"
    assert HumanTask.objects.filter(instance_id=first["id"], status="open").count() == 0

    second = request_transcript()
    act(second["id"], "registrar_staff1", "review", decision="approve")
    late = TranscriptRequest.objects.get(instance_id=second["id"])
    assert api_as("student1").post(f"/api/transcripts/requests/{late.pk}/cancel/", {}, format="json").status_code == 409


def test_students_see_only_their_own_requests_and_pdfs(demo: None) -> None:
    instance = request_transcript()
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    sign(instance["id"])
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    other = api_as("student2")
    assert other.get(f"/api/transcripts/requests/{request.pk}/").status_code == 404
    assert other.get(f"/api/transcripts/requests/{request.pk}/pdf/").status_code == 404
    assert other.get("/api/transcripts/requests/").json()["results"] == []
    assert api_as("teacher1").get(f"/api/transcripts/requests/{request.pk}/pdf/").status_code == 404
    assert api_as("registrar_staff2").get(f"/api/transcripts/requests/{request.pk}/pdf/").status_code == 200


def test_paper_copies_are_sealed_handed_over_and_registered(demo: None) -> None:
    instance = request_transcript(electronic=False, paper_copies=2)
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    sign(instance["id"])
    refused = api_as("registrar_staff2").post(
        f"/api/tasks/{task_of(instance['id'], 'registrar_staff2', 'hand_over')['id']}/complete/",
        {"seal_applied": True, "received_by": "", "received_on": "2026-11-25"},
        format="json",
    )
    assert "received_by" in refused.json()["fields"]
    act(
        instance["id"],
        "registrar_staff2",
        "hand_over",
        seal_applied=True,
        received_by="Абенова Айжан Серікқызы",
        received_on="2026-11-25",
        receiver_document="удостоверение 041234567",
    )
    entry = RegistryEntry.objects.get()
    assert (entry.received_by, str(entry.received_on), entry.paper_copies) == (
        "Абенова Айжан Серікқызы",
        "2026-11-25",
        2,
    )
    assert entry.handed_over_by.username == "registrar_staff2"
    registry = api_as("registrar_head1").get("/api/transcripts/registry/").json()
    assert registry[0]["number"] == entry.number
    assert registry[0]["received_by"] == "Абенова Айжан Серікқызы"
    csv = api_as("registrar_head1").get("/api/transcripts/registry/", {"export": "csv"})
    assert entry.number in csv.content.decode("utf-8-sig")
    xlsx = api_as("registrar_head1").get("/api/transcripts/registry/", {"export": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert api_as("student1").get("/api/transcripts/registry/").status_code == 403


def test_a_kind_signed_by_the_dean_waits_for_the_deans_signature(demo: None) -> None:
    instance = request_transcript(kind="school")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()["stage"] == "signing"
    task = task_of(instance["id"], "school_dean1", "sign_dean")  # the dean of the student's school
    checkbox_only = api_as("school_dean1").post(f"/api/tasks/{task['id']}/complete/", {"confirm": True}, format="json")
    assert checkbox_only.status_code == 400  # a checkbox is not a signature
    assert checkbox_only.json()["code"] == "signature_required"
    sign(instance["id"], "school_dean1", "sign_dean")
    request.refresh_from_db()
    assert request.issued_at is not None
    assert RegistryEntry.objects.get(request=request).signed_by.username == "school_dean1"


def test_a_graduate_can_request_too(demo: None) -> None:
    from backend.academics.models import Student

    graduate = Student.objects.filter(status="graduated").select_related("user").first()
    instance = request_transcript(graduate.user.username, language="en")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    sign(instance["id"])
    assert TranscriptRequest.objects.get(instance_id=instance["id"]).issued_at is not None


def test_the_student_is_notified_by_e_mail_and_in_the_cabinet(
    demo: None, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    instance = request_transcript()
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    with django_capture_on_commit_callbacks(execute=True):
        sign(instance["id"])
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert any(request.number in m.body and m.to == [request.student.email] for m in mailoutbox)
    notices = api_as("student1").get("/api/transcripts/notices/").json()
    assert request.number in notices[0]["text"]


def test_the_service_time_is_three_working_days_with_escalation(demo: None) -> None:
    from datetime import timedelta

    import time_machine

    from backend.core.workdays import add_working_days
    from backend.workflow import services as workflow
    from backend.workflow.models import HistoryEvent

    instance = request_transcript()
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    review = HumanTask.objects.get(instance_id=instance["id"], spec_id="review")
    assert review.due_at == request.issue_due
    assert abs((request.issue_due - add_working_days(request.requested_at, 3)).total_seconds()) < 5
    with time_machine.travel(review.due_at + timedelta(minutes=1)):
        workflow.timers_fire_due()
    assert HistoryEvent.objects.get(instance_id=instance["id"], kind="escalated").payload["to"] == ["registrar_head1"]
