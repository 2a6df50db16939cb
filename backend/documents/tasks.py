"""Celery tasks of the documents app: they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from backend.core.files import orphan_files_sweep
from backend.core.retrying import retrying

from .exceptions import ConversionTimedOut, ConverterUnavailable


@shared_task(
    name="backend.documents.tasks.generate_document",
    # A cold converter start (≤120 s) plus one conversion (QUJAT_CONVERTER_TIMEOUT, 60 s by default) fits
    # under the soft limit; the hard limit only catches a worker stuck beyond that.
    soft_time_limit=240,
    time_limit=270,
    # The converter being down or hung is temporary (it is restarted), and so is a lost database connection;
    # a template error is not retried. A worker killed mid-way: the message is redelivered (acks_late,
    # reject_on_worker_lost), and if it is lost anyway the sweeper enqueues the pending document again.
    **retrying(ConverterUnavailable, ConversionTimedOut, max_retries=5, backoff=10),
)
def generate_document(document_id: int) -> int | None:
    """Render, convert and store one requested document (idempotent: a ready document is left alone)."""
    from .services import document_generate_attempt  # services enqueue this task

    document = document_generate_attempt(document_id=document_id)
    return document.pk if document else None


@shared_task(name="backend.documents.tasks.sweep_documents", time_limit=120, soft_time_limit=100, **retrying())
def sweep_documents() -> int:
    """Enqueue again the requested documents whose generation died; fail them visibly after too many attempts."""
    from .services import documents_sweep

    return documents_sweep()


@shared_task(name="backend.documents.tasks.sweep_orphan_files", time_limit=1800, soft_time_limit=1700, **retrying())
def sweep_orphan_files() -> int:
    """Delete generated files that no row names (a killed worker's), past the grace period."""
    return len(orphan_files_sweep())
