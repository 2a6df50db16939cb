from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError

from .kinds import KINDS
from .models import DocumentNumberSequence, DocumentTemplate, GeneratedDocument
from .rendering import template_check
from .services import document_template_set_active, document_template_upload


def _file_link(file: FieldFile) -> str:
    if not file:
        return "—"
    return format_html('<a href="{}" download>{}</a>', file.url, (file.name or "").rsplit("/", 1)[-1])


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(admin.ModelAdmin):
    """Read-only: documents are made by the processes, and their hashes are recorded in the history."""

    list_display = ["id", "title", "number", "language", "status", "instance", "created_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["number", "title", "key"]
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "language",
        "title",
        "number",
        "status",
        "error",
        "pdf_link",
        "pdf_sha256",
        "docx_link",
        "docx_sha256",
        "template",
        "template_sha256",
        "instance",
        "key",
        "requested_by",
        "created_at",
        "generated_at",
        "context",
        "approval_sheet",
    )
    readonly_fields = fields

    @admin.display(description=_("PDF file"))
    def pdf_link(self, document: GeneratedDocument) -> str:
        return _file_link(document.pdf)

    @admin.display(description=_("Word file"))
    def docx_link(self, document: GeneratedDocument) -> str:
        return _file_link(document.docx)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DocumentTemplateUploadForm(forms.ModelForm):
    """An upload is test-rendered with its kind's example exactly as documents are; a refusal is a field error."""

    class Meta:
        model = DocumentTemplate
        fields = ["kind", "language", "file"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, language, upload = cleaned.get("kind"), cleaned.get("language"), cleaned.get("file")
        if not (kind and language and upload):
            return cleaned
        if language not in KINDS[kind].languages:
            self.add_error(
                "language",
                _("The %(kind)s template exists in %(languages)s only.")
                % {"kind": KINDS[kind].title_in(), "languages": ", ".join(KINDS[kind].languages)},
            )
            return cleaned
        upload.seek(0)
        try:
            template_check(kind=kind, language=language, template=upload.read())
        except ApplicationError as error:
            self.add_error("file", error.message)
        return cleaned


class DocumentTemplateChangeForm(forms.ModelForm):
    """Only `is_active` changes; activating an older upload checks it again against today's example."""

    class Meta:
        model = DocumentTemplate
        fields = ["is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        template = self.instance
        if cleaned.get("is_active") and not DocumentTemplate.objects.filter(pk=template.pk, is_active=True).exists():
            try:
                with template.file.open("rb") as handle:
                    template_check(kind=template.kind, language=template.language, template=handle.read())
            except ApplicationError as error:
                self.add_error("is_active", error.message)
        return cleaned


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "language", "is_active", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "language", "is_active"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = DocumentTemplateUploadForm if obj is None else DocumentTemplateChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["kind", "language", "file"]
        return ["kind", "language", "file", "sha256", "uploaded_by", "uploaded_at", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # An uploaded file is never edited in place: upload a new one, which was checked before saving.
        if obj is None:
            return []
        return ["kind", "language", "file", "sha256", "uploaded_by", "uploaded_at"]

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return form.save(commit=False)
        user = request.user if isinstance(request.user, User) else None
        return document_template_upload(
            kind=form.cleaned_data["kind"],
            language=form.cleaned_data["language"],
            file=form.cleaned_data["file"],
            uploaded_by=user,
        )

    def save_model(self, request: HttpRequest, obj: DocumentTemplate, form: Any, change: bool) -> None:
        # New uploads were stored by save_form through the service.
        if change and "is_active" in form.changed_data:
            document_template_set_active(template=obj, active=obj.is_active)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:  # an upload's form was never saved itself, so it has no many-to-many step
            super().save_related(request, form, formsets, change)


@admin.register(DocumentNumberSequence)
class DocumentNumberSequenceAdmin(admin.ModelAdmin):
    """Visible for audits; numbers are only given out by the numbering service."""

    list_display = ["kind", "year", "last_number"]
    list_filter = ["kind", "year"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
