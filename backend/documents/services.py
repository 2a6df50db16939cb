"""Writes: requesting, generating and storing official documents; uploading templates."""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, Conflict, ValidationFailed
from backend.core.files import file_written
from backend.core.models import in_each_language
from backend.core.retrying import TRANSIENT_DATABASE
from backend.workflow.history import history_record
from backend.workflow.models import HistoryEvent, ProcessInstance

from .converter import convert_docx_to_pdf
from .kinds import DocumentKind, kind_get, kind_language_check
from .models import DocumentTemplate, GeneratedDocument
from .numbering import format_number, next_number
from .rendering import docx_append, render_docx, template_check
from .selectors import document_get, template_source

logger = logging.getLogger(__name__)

APPROVAL_SHEET_KIND = "approval_sheet"
APPROVAL_ROW_KEYS = ("name", "action", "at", "certificate")
MAX_KEY_LENGTH = GeneratedDocument._meta.get_field("key").max_length or 200
LOST_CONNECTION = _("The database connection was lost while storing the document; it is generated again.")


@dataclass(frozen=True)
class _Produced:
    docx: bytes
    pdf: bytes
    template: DocumentTemplate | None
    template_sha256: str


# -- requesting ------------------------------------------------------------------------------------------
@transaction.atomic
def document_request(
    *,
    kind: str,
    language: str,
    context: dict[str, Any],
    instance: ProcessInstance | None = None,
    key: str,
    title: str | None = None,
    approval_sheet: list[dict[str, str]] | None = None,
    allocate_number: bool = False,
    actor: User | None = None,
) -> GeneratedDocument:
    """Create the document (or return the one already requested with this key) and generate it in Celery.

    With allocate_number the kind's next outgoing number for this year is taken in this transaction,
    stored on the document and given to the template as `number`. A failed document asked for again is
    queued again; a pending or ready one is returned as it is.
    """
    document, created = _document_create(
        kind=kind,
        language=language,
        context=context,
        instance=instance,
        key=key,
        title=title,
        approval_sheet=approval_sheet,
        allocate_number=allocate_number,
        actor=actor,
    )
    if created or document.status == GeneratedDocument.Status.FAILED:
        from .tasks import generate_document  # the task module imports this one

        document_id = document.pk
        transaction.on_commit(lambda: generate_document.delay(document_id))
    return document


@transaction.atomic
def document_generate_now(
    *,
    kind: str,
    language: str,
    context: dict[str, Any],
    instance: ProcessInstance | None = None,
    key: str,
    title: str | None = None,
    approval_sheet: list[dict[str, str]] | None = None,
    allocate_number: bool = False,
    actor: User | None = None,
) -> GeneratedDocument:
    """Like document_request, but render and convert in this process and return the ready document.

    All or nothing: if rendering or conversion fails the exception propagates and neither the document
    nor its number remains. The transaction stays open during the conversion (typically 0.2–1 s).
    """
    document, _created = _document_create(
        kind=kind,
        language=language,
        context=context,
        instance=instance,
        key=key,
        title=title,
        approval_sheet=approval_sheet,
        allocate_number=allocate_number,
        actor=actor,
    )
    return document_generate(document_id=document.pk)


def _document_create(
    *,
    kind: str,
    language: str,
    context: dict[str, Any],
    instance: ProcessInstance | None,
    key: str,
    title: str | None,
    approval_sheet: list[dict[str, str]] | None,
    allocate_number: bool,
    actor: User | None,
) -> tuple[GeneratedDocument, bool]:
    definition = kind_get(kind)
    kind_language_check(definition, language)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            _("An idempotency key of 1 to %(max)s characters is required.") % {"max": MAX_KEY_LENGTH},
            fields={"key": [str(_("Required, at most %(max)s characters.") % {"max": MAX_KEY_LENGTH})]},
        )
    clean_context = _json_object(context)
    rows = _approval_rows(approval_sheet)

    existing = _document_find(instance=instance, kind=kind, key=key)
    if existing is not None:
        return existing, False
    try:
        # A savepoint: losing the race for the key must also give back the number taken for it.
        with transaction.atomic():
            number = str(clean_context.get("number") or "")
            if allocate_number:
                number = _number_allocate(definition)
                clean_context["number"] = number
            document = GeneratedDocument.objects.create(
                kind=kind,
                language=language,
                title=(title or definition.title_in(language))[:500],
                context=clean_context,
                approval_sheet=rows,
                number=number,
                instance=instance,
                key=key,
                requested_by=actor,
            )
    except IntegrityError:
        existing = _document_find(instance=instance, kind=kind, key=key)
        if existing is None:
            raise
        return existing, False
    return document, True


def _document_find(*, instance: ProcessInstance | None, kind: str, key: str) -> GeneratedDocument | None:
    return GeneratedDocument.objects.filter(instance=instance, kind=kind, key=key).first()


def _number_allocate(definition: DocumentKind) -> str:
    year = timezone.localdate().year
    return format_number(
        prefix=definition.number_prefix, year=year, number=next_number(kind=definition.code, year=year)
    )


def _json_object(context: Any) -> dict[str, Any]:
    """A copy of the context as plain JSON, which is what is stored and what the template receives."""
    if not isinstance(context, dict):
        raise ValidationFailed(_("The document context must be an object."), fields={"context": ["object"]})
    try:
        return json.loads(json.dumps(context, ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise ValidationFailed(
            _("The document context must hold only text, numbers, lists and objects: %(error)s") % {"error": error},
            fields={"context": [str(error)]},
        ) from None


def _approval_rows(rows: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValidationFailed(
            _("The approval sheet must be a list of rows with name, action, at and certificate."),
            fields={"approval_sheet": [str(_("A list of rows."))]},
        )
    return [{name: str(row.get(name) or "") for name in APPROVAL_ROW_KEYS} for row in rows]


# -- generating ------------------------------------------------------------------------------------------
def document_generate(*, document_id: int) -> GeneratedDocument:
    """Render, convert and store the document; a ready document is returned untouched (safe to retry).

    Rendering and conversion run before the storing transaction opens, so no row lock is held during the
    ~1 s conversion; the files, their hashes, the ready status and the history event commit together.
    On failure the document is marked failed with the message and the error is re-raised.
    """
    document = document_get(document_id=document_id)
    if document.status == GeneratedDocument.Status.READY:
        return document
    try:
        produced = _document_produce(document)
        # The first query after a conversion is where a lost database connection shows: inside this try, so
        # the row never stays pending because of it (the task retries; the sweeper catches a killed worker).
        return _document_store(document_id=document_id, produced=produced)
    except Exception as error:
        _document_mark_failed(document_id, error)
        raise


def _document_mark_failed(document_id: int, error: Exception) -> None:
    """Record why generating failed, on a fresh connection if the error took the old one away."""
    message = error.message if isinstance(error, ApplicationError) else f"{type(error).__name__}: {error}"
    if isinstance(error, TRANSIENT_DATABASE):
        message = str(LOST_CONNECTION)
    attempt: AbstractContextManager[Any]
    if connection.in_atomic_block:
        if connection.needs_rollback:
            return  # the caller's transaction rolls back, the document row with it
        attempt = transaction.atomic()
    else:
        if isinstance(error, TRANSIENT_DATABASE):
            connection.close()
        attempt = nullcontext()
    try:
        with attempt:
            GeneratedDocument.objects.filter(pk=document_id).exclude(status=GeneratedDocument.Status.READY).update(
                status=GeneratedDocument.Status.FAILED, error=message[:2000]
            )
    except DatabaseError:
        logger.warning("document %s: could not record its failure (%s); the sweeper will", document_id, message)


def _document_produce(document: GeneratedDocument) -> _Produced:
    source = template_source(kind=document.kind, language=document.language)
    docx = render_docx(template=source.content, context=document.context)
    if document.approval_sheet is not None:
        sheet = template_source(kind=APPROVAL_SHEET_KIND, language=document.language)
        sheet_docx = render_docx(
            template=sheet.content,
            context={
                "university": document.context.get("university", {}),
                "document_title": document.title,
                "number": document.number,
                "date": document.context.get("date", ""),
                "rows": document.approval_sheet,
            },
        )
        docx = docx_append(main=docx, appendix=sheet_docx)
    pdf = convert_docx_to_pdf(docx)
    return _Produced(docx=docx, pdf=pdf, template=source.uploaded, template_sha256=source.sha256)


@transaction.atomic
def _document_store(*, document_id: int, produced: _Produced) -> GeneratedDocument:
    document = GeneratedDocument.objects.select_for_update().get(pk=document_id)
    if document.status == GeneratedDocument.Status.READY:
        return document  # another worker finished first; its files stand
    stem = f"{document.kind}.{document.language}.{document.pk}"
    # Files are written before the commit (a ready document never lacks its files); if the transaction rolls
    # back they are deleted when the request or task ends, and a killed process's files by the orphan sweep.
    document.docx.save(f"{stem}.docx", ContentFile(produced.docx), save=False)
    document.pdf.save(f"{stem}.pdf", ContentFile(produced.pdf), save=False)
    file_written(document.docx)
    file_written(document.pdf)
    document.docx_sha256 = hashlib.sha256(produced.docx).hexdigest()
    document.pdf_sha256 = hashlib.sha256(produced.pdf).hexdigest()
    document.template = produced.template
    document.template_sha256 = produced.template_sha256
    document.status = GeneratedDocument.Status.READY
    document.error = ""
    document.generated_at = timezone.now()
    document.save()
    if document.instance_id is not None:
        history_record(
            instance=ProcessInstance.objects.get(pk=document.instance_id),
            kind=HistoryEvent.Kind.DOCUMENT_GENERATED,
            actor=document.requested_by,
            payload={
                "document_id": document.pk,
                "kind": document.kind,
                "language": document.language,
                "title": document.title,
                "number": document.number,
                "pdf_sha256": document.pdf_sha256,
            },
        )
    return document


# -- background generation: attempts and the sweeper --------------------------------------------------------
# A requested document's generation shows no sign of life for this long: its worker died or its message was lost.
STALL_AFTER = timedelta(seconds=getattr(settings, "QUJAT_JOB_STALL_SECONDS", 300))
MAX_ATTEMPTS = 6


def document_generate_attempt(*, document_id: int) -> GeneratedDocument | None:
    """One background attempt at a requested document: counted first (committed), so the sweeper sees it."""
    counted = (
        GeneratedDocument.objects.filter(pk=document_id)
        .exclude(status=GeneratedDocument.Status.READY)
        .update(attempts=F("attempts") + 1, attempted_at=timezone.now())
    )
    if not counted:
        return GeneratedDocument.objects.filter(pk=document_id).first()  # ready already, or gone
    return document_generate(document_id=document_id)


def documents_sweep(*, now: datetime | None = None) -> int:
    """Enqueue again each requested document left pending past its deadline, or failed only because the database
    went away (its task ran out of retries during a long outage); fail it, visibly, after MAX_ATTEMPTS."""
    from .tasks import generate_document  # the task module imports this one

    moment = now or timezone.now()
    stalled = Q(attempted_at__lt=moment - STALL_AFTER) | Q(
        attempted_at__isnull=True, created_at__lt=moment - STALL_AFTER
    )
    lost = Q(status=GeneratedDocument.Status.FAILED, attempts__lt=MAX_ATTEMPTS) & Q(
        error__in={str(LOST_CONNECTION), *in_each_language(lambda _language: str(LOST_CONNECTION)).values()}
    )
    resumed = 0
    with transaction.atomic():
        stuck = list(
            GeneratedDocument.objects.select_for_update(skip_locked=True)
            .filter(stalled, Q(status=GeneratedDocument.Status.PENDING) | lost)
            .order_by("pk")[:200]
        )
        for document in stuck:
            if document.attempts >= MAX_ATTEMPTS:
                GeneratedDocument.objects.filter(pk=document.pk).update(
                    status=GeneratedDocument.Status.FAILED,
                    error=str(
                        _("Generating stopped after %(runs)s attempts that did not finish; ask for it again.")
                        % {"runs": document.attempts}
                    ),
                )
                logger.error("document %s given up after %s attempts", document.pk, document.attempts)
                continue
            GeneratedDocument.objects.filter(pk=document.pk).update(
                attempted_at=moment, status=GeneratedDocument.Status.PENDING
            )
            transaction.on_commit(lambda document_id=document.pk: generate_document.delay(document_id))  # type: ignore[misc]
            logger.warning("document %s stayed pending; enqueued again", document.pk)
            resumed += 1
    return resumed


# -- templates -------------------------------------------------------------------------------------------
@transaction.atomic
def document_template_upload(*, kind: str, language: str, file: File, uploaded_by: User | None) -> DocumentTemplate:
    """Test-render the upload with the kind's example, then make it the active template of its kind."""
    kind_language_check(kind_get(kind), language)
    file.seek(0)
    content = file.read()
    template_check(kind=kind, language=language, template=content)
    DocumentTemplate.objects.filter(kind=kind, language=language, is_active=True).update(is_active=False)
    template = DocumentTemplate(
        kind=kind,
        language=language,
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=uploaded_by,
        is_active=True,
    )
    template.file.save(f"{kind}.{language}.docx", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict(_("Another template of this kind was uploaded at the same moment; try again.")) from None
    return template


@transaction.atomic
def document_template_set_active(*, template: DocumentTemplate, active: bool) -> DocumentTemplate:
    """Make an uploaded template the active one (checking it again), or fall back to the shipped one."""
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    if active and not template.is_active:
        with template.file.open("rb") as handle:
            template_check(kind=template.kind, language=template.language, template=handle.read())
        DocumentTemplate.objects.filter(kind=template.kind, language=template.language, is_active=True).update(
            is_active=False
        )
    template.is_active = active
    template.save(update_fields=["is_active"])
    return template
