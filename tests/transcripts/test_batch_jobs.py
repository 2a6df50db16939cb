"""Group batches as jobs: one transcript per student enforced by the database, failures named, retried."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client

from backend.academics.models import Student
from backend.core import jobs
from backend.core.models import Job, JobItem
from backend.signatures.models import SignerCertificate
from backend.signatures.task_signing import task_sign
from backend.transcripts import services
from backend.transcripts.models import Batch, Notice, RegistryEntry, TranscriptRequest
from backend.workflow.models import HumanTask
from tests.conftest import user

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


def graduates() -> int:
    group = Student.objects.filter(status="graduated").values_list("group_id", flat=True).first()
    assert group is not None
    return group


def start(capture: Any) -> Batch:
    with capture(execute=True):
        batch = services.batch_create(
            group_id=graduates(), kind="standard", language="ru", reason="", user=user("registrar_staff1")
        )
    return Batch.objects.select_related("job", "group").get(pk=batch.pk).refresh_from_job()


def sign_all(batch: Batch, capture: Any) -> None:
    """Each numbered transcript of the batch is signed by its signer in their own task (then registered)."""
    signer = user("registrar_head1")
    for request in TranscriptRequest.objects.filter(batch=batch).order_by("pk"):
        task = HumanTask.objects.get(instance=request.instance, spec_id="sign_registrar", status=HumanTask.Status.OPEN)
        with capture(execute=True):
            task_sign(task_id=task.pk, user=signer, passphrase="demo", data={"confirm": True})


def login(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def test_the_database_refuses_a_second_transcript_of_a_student_in_one_batch(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    batch = start(django_capture_on_commit_callbacks)
    issued = TranscriptRequest.objects.filter(batch=batch).first()
    assert issued is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        TranscriptRequest.objects.create(
            instance=issued.instance,  # reused only to satisfy the other columns; the constraint refuses first
            student=issued.student,
            kind=issued.kind,
            reason="again",
            language="ru",
            batch=batch,
            issue_due=issued.issue_due,
        )


def test_a_batch_run_again_issues_nothing_twice(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    batch = start(django_capture_on_commit_callbacks)
    assert (batch.status, batch.done, batch.failed, batch.total) == ("done", 15, 0, 15)
    assert batch.job is not None
    numbers = sorted(TranscriptRequest.objects.filter(batch=batch).values_list("number", flat=True))
    Job.objects.filter(pk=batch.job.pk).update(status=Job.Status.RUNNING)  # a second delivery arrives
    JobItem.objects.filter(job=batch.job).update(status=JobItem.Status.PENDING)  # even with its items reopened
    jobs.job_run(job_id=batch.job.pk)
    assert TranscriptRequest.objects.filter(batch=batch).count() == 15
    # No transcript numbered twice: the same fifteen numbers, each signed and registered once.
    assert sorted(TranscriptRequest.objects.filter(batch=batch).values_list("number", flat=True)) == numbers
    assert len(set(numbers)) == 15
    assert all(numbers)
    sign_all(batch, django_capture_on_commit_callbacks)
    assert RegistryEntry.objects.count() == 15


def test_failures_are_named_on_the_batch_page_and_retried(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    # Nobody can sign: every student's transcript fails, with the reason, and no case or number is left behind.
    SignerCertificate.objects.update(revoked_at="2026-01-01T00:00:00Z")
    batch = start(django_capture_on_commit_callbacks)
    assert (batch.status, batch.done, batch.failed) == ("failed", 0, 15)
    assert TranscriptRequest.objects.filter(batch=batch).count() == 0
    assert RegistryEntry.objects.count() == 0
    staff = login("registrar_staff1")
    page = staff.get("/transcripts/batches/").content.decode()
    student = Student.objects.filter(group_id=graduates()).order_by("last_name", "first_name", "pk").first()
    assert student is not None
    assert f"{student.full_name} ({student.student_id}): " in page
    assert "сертификат" in page  # the reason, in the language of whoever started the batch (Russian)
    assert f'action="/jobs/{batch.job_id}/retry/"' in page
    assert batch.failures()[0]["student"] == f"{student.full_name} ({student.student_id})"

    # The certificate is renewed; the retry button issues every transcript, numbered from 1.
    SignerCertificate.objects.update(revoked_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"/jobs/{batch.job_id}/retry/").status_code == 302
    batch = Batch.objects.select_related("job").get(pk=batch.pk).refresh_from_job()
    assert (batch.status, batch.done, batch.failed) == ("done", 15, 0)
    sign_all(batch, django_capture_on_commit_callbacks)
    assert sorted(RegistryEntry.objects.values_list("sequence", flat=True)) == list(range(1, 16))
    assert Batch.objects.get(pk=batch.pk).errors == []
    assert f'href="/jobs/{batch.job_id}/"' in staff.get("/transcripts/batches/").content.decode()
    assert login("student1").get(f"/jobs/{batch.job_id}/").status_code == 404
    assert login("registrar_staff2").get(f"/jobs/{batch.job_id}/").status_code == 200


def test_the_student_is_told_once_however_often_the_notice_runs(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    batch = start(django_capture_on_commit_callbacks)
    request = TranscriptRequest.objects.filter(batch=batch, student__user__isnull=False).first()
    assert request is not None
    assert request.notified_at is None  # numbered, not yet signed: nothing to tell
    sign_all(batch, django_capture_on_commit_callbacks)
    request.refresh_from_db()
    assert request.notified_at is not None
    notices, sent = Notice.objects.filter(user=request.student.user).count(), len(mail.outbox)
    services.transcript_notify(request_id=request.pk)
    services.transcript_notify(request_id=request.pk)
    assert Notice.objects.filter(user=request.student.user).count() == notices
    assert len(mail.outbox) == sent
