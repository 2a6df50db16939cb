"""Continuous numbering under concurrent approvals, group batches, and what the staff see before approving."""

from __future__ import annotations

import socket
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase

from backend.academics.models import AcademicPeriod, Student
from backend.academics.services import final_grade_record
from backend.transcripts import services
from backend.transcripts.models import Batch, RegistryEntry, TranscriptRequest
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask
from tests.conftest import api_as, user
from tests.factories import DisciplineFactory
from tests.transcripts.test_issuance import act, request_transcript, sign, task_of


@pytest.mark.postgres
def test_numbers_stay_continuous_under_concurrent_approvals(transactional_demo: None) -> None:
    assert connection.vendor == "postgresql"
    students = [f"student{n}" for n in range(1, 9)]
    tasks = []
    for username in students:
        instance = request_transcript(username)
        tasks.append(HumanTask.objects.get(instance_id=instance["id"], spec_id="review").pk)
    barrier = threading.Barrier(len(tasks))
    errors: list[BaseException] = []

    def approve(task_id: int, username: str) -> None:
        try:
            staff = user(username)
            barrier.wait()
            workflow.task_complete(task_id=task_id, user=staff, data={"decision": "approve"})
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(t, f"registrar_staff{1 + i % 2}")) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    numbers = list(TranscriptRequest.objects.exclude(number="").values_list("number", flat=True))
    assert len(set(numbers)) == len(tasks)
    sequences = sorted(int(number.rsplit("/", 1)[-1]) for number in numbers)
    assert sequences == list(range(1, len(tasks) + 1))  # no gaps, no duplicates


@pytest.mark.django_db
def test_a_failed_issue_returns_its_number(demo: None) -> None:
    from backend.signatures.models import SignerCertificate

    first = request_transcript("student1")
    # Nobody can sign (the head's certificate is revoked): issuing fails and the case shows an incident.
    SignerCertificate.objects.filter(user__username="registrar_head1").update(revoked_at="2026-01-01T00:00:00Z")
    act(first["id"], "registrar_staff1", "review", decision="approve")
    failed = TranscriptRequest.objects.get(instance_id=first["id"])
    assert failed.instance.status == "error"
    assert failed.number == ""
    assert "certificate" in failed.instance.incident
    # The number it would have had goes to the next transcript: no gap.
    SignerCertificate.objects.filter(user__username="registrar_head1").update(revoked_at=None)
    second = request_transcript("student2")
    act(second["id"], "registrar_staff1", "review", decision="approve")
    assert TranscriptRequest.objects.get(instance_id=second["id"]).number.endswith("/000001")
    workflow.instance_retry(instance_id=failed.instance_id, user=user("registrar_head1"))
    failed.refresh_from_db()
    assert failed.number.endswith("/000002")


@pytest.mark.django_db
@pytest.mark.converter
def test_a_whole_group_in_the_background_with_progress(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    graduates = Student.objects.filter(status="graduated").values_list("group_id", flat=True).first()
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as("registrar_staff1").post(
            "/api/transcripts/batches/", {"group": graduates, "language": "ru"}, format="json"
        )
    assert created.status_code == 201
    batch = Batch.objects.get(pk=created.json()["id"])
    progress = api_as("registrar_staff1").get(f"/api/transcripts/batches/{batch.pk}/").json()
    assert (progress["status"], progress["done"], progress["failed"], progress["percent"]) == ("done", 15, 0, 100)
    # Numbered and generated, each waiting for its signer's signature (tests/signatures/test_signers.py signs them).
    assert TranscriptRequest.objects.filter(batch=batch).exclude(number="").count() == 15
    assert HumanTask.objects.filter(spec_id="sign_registrar", status="open").count() == 15
    assert RegistryEntry.objects.count() == 0
    assert (
        api_as("student1")
        .post("/api/transcripts/batches/", {"group": graduates, "language": "ru"}, format="json")
        .status_code
        == 403
    )


@pytest.mark.django_db
def test_the_preview_shows_letters_gpa_and_data_problems(demo: None) -> None:
    student = Student.objects.get(user__username="student3")
    student.grades.all().delete()
    autumn = AcademicPeriod.objects.get(academic_year="2025-2026", term=1)
    summer = AcademicPeriod.objects.get(academic_year="2025-2026", term=3)
    physiology, latin = DisciplineFactory(credits=6), DisciplineFactory(credits=4)
    final_grade_record(student=student, discipline=physiology, period=autumn, points=Decimal(42))  # FX, 0.00
    final_grade_record(student=student, discipline=physiology, period=summer, points=Decimal(88), attempt=2)  # B+
    final_grade_record(student=student, discipline=latin, period=autumn, points=Decimal("94.5"))  # A-, 3.67
    instance = request_transcript("student3")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    preview = api_as("registrar_staff1").get(f"/api/transcripts/requests/{request.pk}/").json()["preview"]
    rows = {r["code"]: r for p in preview["periods"] for r in p["rows"]}
    assert (rows[physiology.code]["letter"], rows[physiology.code]["retake"]) == ("B+", True)
    assert rows[latin.code]["letter"] == "A-"
    # (6 × 3.33 + 4 × 3.67) / 10 = (19.98 + 14.68) / 10 = 3.466 → 3.47
    assert preview["gpa"] == "3.47"
    assert preview["total_credits"] == 10
    # The group studied disciplines the student has no grade for: shown, and approving needs a confirmation.
    assert preview["problems"]
    refused = api_as("registrar_staff1").post(
        f"/api/tasks/{HumanTask.objects.get(instance_id=instance['id'], spec_id='review').pk}/complete/",
        {"decision": "approve"},
        format="json",
    )
    assert refused.status_code == 400
    assert "problems_acknowledged" in refused.json()["fields"]
    act(instance["id"], "registrar_staff1", "review", decision="approve", problems_acknowledged=True)
    sign(instance["id"])
    assert TranscriptRequest.objects.get(pk=request.pk).issued_at is not None
    assert services.transcript_of(request).gpa == Decimal("3.47")


@pytest.mark.django_db
def test_a_transcript_whose_generation_fails_keeps_its_number_and_is_retried(demo: None, settings: Any) -> None:
    from backend.documents.exceptions import ConverterUnavailable
    from backend.documents.services import document_generate

    first = request_transcript("student1")
    working_port = settings.QUJAT_CONVERTER_PORT
    # The converter cannot be reached: the approval commits with the number, the generation fails visibly.
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        settings.QUJAT_CONVERTER_PORT = probe.getsockname()[1]
    settings.QUJAT_CONVERTER_CONNECT_WAIT = 0
    review = task_of(first["id"], "registrar_staff1", "review")
    with TestCase.captureOnCommitCallbacks(execute=False):  # the worker's generation is run below, by hand
        approved = api_as("registrar_staff1").post(
            f"/api/tasks/{review['id']}/complete/", {"decision": "approve"}, format="json"
        )
    assert approved.status_code == 200, approved.json()
    failed = TranscriptRequest.objects.get(instance_id=first["id"])
    assert failed.number.endswith("/000001")
    assert failed.issued_at is None
    with pytest.raises(ConverterUnavailable):
        document_generate(document_id=failed.document_id)
    failed.refresh_from_db()
    assert failed.number.endswith("/000001")
    # The next approval takes the next number: the failed one keeps its own, no gap, no duplicate.
    settings.QUJAT_CONVERTER_PORT = working_port
    settings.QUJAT_CONVERTER_CONNECT_WAIT = 30
    second = request_transcript("student2")
    act(second["id"], "registrar_staff1", "review", decision="approve")
    assert TranscriptRequest.objects.get(instance_id=second["id"]).number.endswith("/000002")
    # The converter is back: the generation is retried, the signer signs, and the transcript is issued as No. 1.
    document_generate(document_id=failed.document_id)
    sign(first["id"])
    sign(second["id"])
    failed.refresh_from_db()
    assert failed.issued_at is not None
    assert failed.number.endswith("/000001")
    assert sorted(RegistryEntry.objects.values_list("sequence", flat=True)) == [1, 2]
