"""Generated official documents, uploaded templates and outgoing-number sequences."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.workflow.models import ProcessInstance

from .kinds import KINDS, Language, kind_choices


def _document_path(document: GeneratedDocument, filename: str) -> str:
    return f"documents/{document.created_at:%Y/%m}/{filename}"


def _template_path(template: DocumentTemplate, filename: str) -> str:
    return f"document_templates/{template.kind}/{filename}"


class GeneratedDocument(models.Model):
    """One official document: the context it was filled from, its .docx and PDF, and its number."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=50, choices=kind_choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    title = models.CharField(_("title"), max_length=500)
    context = models.JSONField(_("context"), default=dict, encoder=DjangoJSONEncoder)
    approval_sheet = models.JSONField(
        _("approval sheet rows"),
        null=True,
        blank=True,
        help_text=_("Rows of the approval sheet appended as the last page; empty for none."),
    )
    number = models.CharField(_("outgoing number"), max_length=50, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    docx = models.FileField(_("Word file"), upload_to=_document_path, blank=True, max_length=255)
    docx_sha256 = models.CharField(_("Word file SHA-256"), max_length=64, blank=True)
    pdf = models.FileField(_("PDF file"), upload_to=_document_path, blank=True, max_length=255)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    template = models.ForeignKey(
        "DocumentTemplate",
        verbose_name=_("uploaded template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text=_("Empty when the shipped template was used."),
    )
    template_sha256 = models.CharField(_("template SHA-256"), max_length=64, blank=True)
    instance = models.ForeignKey(
        ProcessInstance,
        verbose_name=_("process instance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    key = models.CharField(
        _("idempotency key"), max_length=200, help_text=_("Asking again with the same key returns this document.")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("generation attempts"), default=0)
    attempted_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("generated document")
        verbose_name_plural = _("generated documents")
        ordering = ["-created_at"]
        constraints = [
            # NULLs are distinct in unique indexes, so the instance-less case needs its own constraint.
            models.UniqueConstraint(
                fields=["instance", "kind", "key"],
                condition=Q(instance__isnull=False),
                name="document_instance_kind_key_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "key"], condition=Q(instance__isnull=True), name="document_kind_key_unique"
            ),
            models.CheckConstraint(condition=~Q(key=""), name="document_key_not_empty"),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="document_language_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "ready", "failed"]), name="document_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(pdf="") & ~Q(docx="") & ~Q(pdf_sha256="") & ~Q(docx_sha256="")),
                name="document_ready_has_files",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.number}".strip()

    @property
    def kind_title(self) -> str:
        kind = KINDS.get(self.kind)
        return kind.title_in() if kind else self.kind


class DocumentTemplate(models.Model):
    """A template uploaded by an administrator; the active one replaces the shipped .docx of its kind."""

    kind = models.CharField(_("kind"), max_length=50, choices=kind_choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    file = models.FileField(_("Word template (.docx)"), upload_to=_template_path, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        ordering = ["kind", "language", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], condition=Q(is_active=True), name="template_one_active"
            ),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="template_language_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.language} ({self.uploaded_at:%Y-%m-%d %H:%M})" if self.uploaded_at else self.kind


class DocumentNumberSequence(models.Model):
    """The last outgoing number given out per kind and year; its row lock serializes allocations."""

    kind = models.CharField(_("kind"), max_length=50)
    year = models.PositiveIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("outgoing number sequence")
        verbose_name_plural = _("outgoing number sequences")
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"
