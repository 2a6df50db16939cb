"""Background work survives real faults: a Celery worker on Redis is SIGKILLed (its pool process, or all of it)
during a group batch and during document generation, and its database connections are terminated mid-job.

After the fault the work completes exactly once: one transcript per student, numbers without gaps, every
requested document ready, no file without its row. Nothing is mocked: the worker is `celery worker` with the
prefork pool, the broker is Redis, the database PostgreSQL, the converter LibreOffice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from backend.academics.models import Student
from backend.core import jobs
from backend.core.files import orphan_files_sweep
from backend.core.models import Job, JobItem
from backend.documents.models import GeneratedDocument
from backend.documents.rendering import example_context
from backend.documents.services import document_request, documents_sweep
from backend.signatures.batch import batch_sign_start
from backend.signatures.models import PublishedDocument, Signature
from backend.signatures.task_signing import task_sign
from backend.transcripts import services
from backend.transcripts.models import Batch, RegistryEntry, TranscriptRequest
from backend.transcripts.tasks import run_batch  # noqa: F401 - registers the batch job kind in this process
from backend.workflow.models import HumanTask
from tests.conftest import user

from .conftest import Terminator, Worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.converter,
    pytest.mark.django_db(transaction=True),
]
LATER = timedelta(hours=1)  # "the sweeper's next round, once the job has shown no sign of life for long enough"


def start_batch() -> Batch:
    graduates = Student.objects.filter(status="graduated").values_list("group_id", flat=True).first()
    assert graduates is not None
    return services.batch_create(
        group_id=graduates, kind="standard", language="ru", reason="graduation", user=user("registrar_staff1")
    )


def job_of(batch: Batch) -> Job:
    assert batch.job_id is not None
    return Job.objects.get(pk=batch.job_id)


def wait_finished(job: Job, timeout: float = 300) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).finished, f"job {job.pk} to finish", timeout=timeout)
    return Job.objects.get(pk=job.pk)


def assert_issued_exactly_once(batch: Batch) -> None:
    students = set(batch.group.students.values_list("pk", flat=True))
    job = wait_finished(job_of(batch))
    assert (job.status, job.done, job.failed, job.total) == (Job.Status.DONE, len(students), 0, len(students)), list(
        job.items.exclude(status=JobItem.Status.DONE).values_list("key", "message")
    )
    requests = TranscriptRequest.objects.filter(batch=batch)
    assert sorted(requests.values_list("student_id", flat=True)) == sorted(students)  # one each, nobody twice
    numbered = sorted(int(number.rsplit("/", 1)[-1]) for number in requests.values_list("number", flat=True))
    assert numbered == list(range(1, len(students) + 1))  # a student is done once numbered: every number once
    # The worker generates each transcript; then its signer signs it in their own task, which registers it.
    documents = GeneratedDocument.objects.filter(pk__in=requests.values("document"))
    wait_for(lambda: not documents.exclude(status=GeneratedDocument.Status.READY).exists(), "the transcripts generated")
    signer = user("registrar_head1")
    for request in requests.order_by("pk"):
        task = HumanTask.objects.get(instance=request.instance, spec_id="sign_registrar", status=HumanTask.Status.OPEN)
        task_sign(task_id=task.pk, user=signer, passphrase="demo", data={"confirm": True})
    assert requests.filter(issued_at__isnull=True).count() == 0
    sequences = sorted(RegistryEntry.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, len(students) + 1))  # every number once, no gap
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DONE


def assert_files_match_rows() -> None:
    """After the sweep every stored generated file is named by a row, and every named file exists."""
    orphan_files_sweep(grace=timedelta(0))
    named = set()
    for document in GeneratedDocument.objects.filter(status=GeneratedDocument.Status.READY):
        named.update({document.docx.name, document.pdf.name})
    named.update(PublishedDocument.objects.exclude(signed_pdf="").values_list("signed_pdf", flat=True))
    stored = set()
    root = Path(default_storage.location)
    for folder in ("documents", "signed"):
        stored.update(str(path.relative_to(root)) for path in (root / folder).rglob("*") if path.is_file())
    assert stored == named


def test_a_batch_completes_once_after_its_pool_process_is_killed(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    worker = worker_factory()
    batch = start_batch()
    wait_for(lambda: job_of(batch).done >= 3, "three transcripts")
    worker.kill_pool_process()  # as the OOM killer does: the message goes back to Redis, the pool starts afresh
    assert_issued_exactly_once(batch)
    assert_files_match_rows()


def test_a_batch_completes_once_after_the_whole_worker_is_killed(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    worker = worker_factory()
    batch = start_batch()
    wait_for(lambda: job_of(batch).done >= 3, "three transcripts")
    worker.kill()  # the message stays unacknowledged in Redis; nothing on the worker's side cleans up
    assert not job_of(batch).finished
    worker_factory()
    # The sweeper's round after the job stopped showing signs of life enqueues it again.
    assert jobs.jobs_sweep(now=timezone.now() + LATER) == 1
    assert_issued_exactly_once(batch)
    assert_files_match_rows()


def test_a_batch_delivered_three_times_issues_one_transcript_per_student(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    from backend.core.tasks import run_job

    worker_factory(concurrency=2)
    batch = start_batch()
    run_job.delay(batch.job_id)  # as if the broker delivered the job's message again, to another process
    run_job.delay(batch.job_id)
    assert_issued_exactly_once(batch)


def test_batch_signing_runs_on_two_worker_processes_and_signs_each_document_once_when_one_is_killed(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    """A batch signing job goes to both pool processes (QUJAT_JOB_RUNNERS); killing one mid-way loses nothing."""
    worker = worker_factory(concurrency=2)
    batch = start_batch()
    wait_finished(job_of(batch))
    waiting = HumanTask.objects.filter(spec_id="sign_registrar", status=HumanTask.Status.OPEN)
    documents = GeneratedDocument.objects.filter(instance__in=waiting.values("instance"))
    wait_for(lambda: not documents.exclude(status=GeneratedDocument.Status.READY).exists(), "the transcripts generated")
    tasks = list(waiting.order_by("pk").values_list("pk", flat=True))
    assert len(tasks) >= 6
    with transaction.atomic():
        signing = batch_sign_start(user=user("registrar_head1"), task_ids=tasks, passphrase="demo")
    wait_for(lambda: Job.objects.get(pk=signing.pk).done >= 2, "two signatures")
    worker.kill_pool_process()  # its run's message goes back to Redis; the other run carries on meanwhile
    signing = wait_finished(signing)
    assert (signing.status, signing.done, signing.failed) == (Job.Status.DONE, len(tasks), 0), list(
        signing.items.exclude(status=JobItem.Status.DONE).values_list("key", "message")
    )
    signatures = Signature.objects.filter(signer__username="registrar_head1", kind=Signature.Kind.PADES)
    assert signatures.count() == len(tasks)  # each document once
    assert signatures.values("document").distinct().count() == len(tasks)
    assert not HumanTask.objects.filter(pk__in=tasks, status=HumanTask.Status.OPEN).exists()
    assert "sealed_key" not in signing.params


def request_document(key: str) -> GeneratedDocument:
    with transaction.atomic():
        return document_request(
            kind="login_request", language="kk", context=example_context(kind="login_request", language="kk"), key=key
        )


def test_document_generation_completes_after_its_worker_is_killed(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    worker = worker_factory()
    first = request_document("killed-pool")
    wait_for(lambda: GeneratedDocument.objects.get(pk=first.pk).attempts >= 1, "the first attempt")
    worker.kill_pool_process()
    wait_for(lambda: GeneratedDocument.objects.get(pk=first.pk).status == "ready", "the document after redelivery")

    worker.kill()
    second = request_document("killed-worker")
    assert GeneratedDocument.objects.get(pk=second.pk).status == GeneratedDocument.Status.PENDING
    worker_factory()
    assert documents_sweep(now=timezone.now() + LATER) == 1  # pending past its deadline: enqueued again
    wait_for(lambda: GeneratedDocument.objects.get(pk=second.pk).status == "ready", "the swept document")
    assert GeneratedDocument.objects.count() == 2
    assert_files_match_rows()


def test_terminated_database_connections_lose_nothing_and_leave_nothing_stuck(
    transactional_demo: None, worker_factory: Callable[..., Worker]
) -> None:
    worker_factory()
    batch = start_batch()
    # Every second the worker's connections are cut, for as long as it takes to hit the worker a handful of times
    # mid-batch and mid-document — or until the work is done anyway (each cut costs a retry with backoff, so how
    # long the work lasts depends on the machine: waiting for a fixed number of cuts once the worker had nothing
    # left to do was what made this test fail when the batch got faster).
    with Terminator(interval=1.0) as terminator:
        documents = [request_document(f"blip-{n}") for n in range(4)]

        def hit_enough_or_done() -> bool:
            if terminator.terminated >= 6:
                return True
            ready = GeneratedDocument.objects.filter(pk__in=[d.pk for d in documents], status="ready").count()
            return job_of(batch).finished and ready == len(documents)

        wait_for(hit_enough_or_done, "six terminated connections or the work done")
    assert terminator.terminated >= 3, terminator.terminated  # the worker was hit mid-work, several times
    assert job_of(batch).failed == 0  # a lost connection is never an item's failure
    assert_issued_exactly_once(batch)
    for document in documents:
        wait_for(
            lambda pk=document.pk: GeneratedDocument.objects.get(pk=pk).status == "ready", f"document {document.pk}"
        )
    assert_files_match_rows()
