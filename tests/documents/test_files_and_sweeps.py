"""Files and rows agree, and no requested document stays pending for good.

A rolled-back transaction's files are deleted when its request or task ends; a killed process's files by the
orphan sweep (after a grace period); a document whose generation died is enqueued again by the sweeper, and
failed visibly after too many attempts. (tests/faults kills real workers for the same guarantees.)
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from backend.core.files import delete_rolled_back_files, orphan_files_sweep
from backend.documents import services
from backend.documents.models import GeneratedDocument
from backend.documents.rendering import example_context


class Abandoned(Exception):
    pass


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def stored(media: Path) -> set[str]:
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def generate(key: str) -> GeneratedDocument:
    return services.document_generate_now(
        kind="login_request", language="kk", context=example_context(kind="login_request", language="kk"), key=key
    )


@pytest.mark.converter
@pytest.mark.django_db(transaction=True)
def test_files_of_a_rolled_back_transaction_are_deleted_and_committed_ones_kept(media: Path) -> None:
    delete_rolled_back_files()  # what earlier tests' rolled-back transactions left in this thread
    written: list[set[str]] = []

    def abandon() -> None:
        with transaction.atomic():
            lost = generate("rolled-back")
            written.append(stored(media))
            assert {lost.docx.name, lost.pdf.name} <= written[0]  # written before the commit...
            raise Abandoned

    with pytest.raises(Abandoned):
        abandon()
    assert delete_rolled_back_files() == 2  # ...and gone when the task or request ends
    kept = generate("committed")
    assert delete_rolled_back_files() == 0
    assert stored(media) == {kept.docx.name, kept.pdf.name}
    assert not GeneratedDocument.objects.filter(key="rolled-back").exists()


@pytest.mark.django_db
def test_the_orphan_sweep_deletes_old_files_no_row_names(media: Path) -> None:
    document = GeneratedDocument.objects.create(kind="login_request", language="kk", title="t", key="named")
    document.pdf.save("named.pdf", ContentFile(b"%PDF-named"), save=True)
    old_orphan = default_storage.save("documents/2026/01/killed.pdf", ContentFile(b"%PDF-orphan"))
    young_orphan = default_storage.save("documents/2026/01/in-flight.docx", ContentFile(b"PK"))
    an_hour_ago = time.time() - 3600
    for name in (document.pdf.name, old_orphan):
        os.utime(media / name, (an_hour_ago, an_hour_ago))

    assert orphan_files_sweep(grace=timedelta(minutes=10)) == [old_orphan]
    assert stored(media) == {document.pdf.name, young_orphan}  # a young file may belong to an open transaction
    assert orphan_files_sweep(grace=timedelta(0)) == [young_orphan]
    assert stored(media) == {document.pdf.name}


@pytest.mark.converter
@pytest.mark.django_db
def test_a_document_left_pending_is_enqueued_again_and_failed_visibly_after_too_many_attempts(
    media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    context = example_context(kind="login_request", language="kk")
    stuck = GeneratedDocument.objects.create(kind="login_request", language="kk", title="t", context=context, key="a")
    hopeless = GeneratedDocument.objects.create(
        kind="login_request", language="kk", title="t", context=context, key="b", attempts=services.MAX_ATTEMPTS
    )
    outage = GeneratedDocument.objects.create(
        kind="login_request", language="kk", title="t", context=context, key="c", attempts=2, status="failed"
    )
    GeneratedDocument.objects.filter(pk=outage.pk).update(error=str(services.LOST_CONNECTION))  # retries ran out
    assert services.documents_sweep() == 0  # not yet past the deadline: its worker may still be on it
    later = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.documents_sweep(now=later) == 2
    outage.refresh_from_db()
    assert (outage.status, outage.attempts) == (GeneratedDocument.Status.READY, 3)
    stuck.refresh_from_db()
    hopeless.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (GeneratedDocument.Status.READY, 1)
    assert hopeless.status == GeneratedDocument.Status.FAILED
    assert "attempts" in hopeless.error
