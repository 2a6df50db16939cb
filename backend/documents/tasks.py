"""Celery tasks of the documents app: they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from .exceptions import ConversionTimedOut, ConverterUnavailable


@shared_task(
    name="backend.documents.tasks.generate_document",
    acks_late=True,
    # A cold converter start (≤120 s) plus one conversion (QUJAT_CONVERTER_TIMEOUT, 60 s by default) fits
    # under the soft limit; the hard limit only catches a worker stuck beyond that.
    soft_time_limit=240,
    time_limit=270,
    # The converter being down or hung is temporary (it is restarted); a template error is not retried.
    autoretry_for=(ConverterUnavailable, ConversionTimedOut),
    max_retries=4,
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
)
def generate_document(document_id: int) -> int:
    """Render, convert and store one requested document (idempotent: a ready document is left alone)."""
    from .services import document_generate  # services enqueue this task

    return document_generate(document_id=document_id).pk
