"""Reads of generated documents and templates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from backend.core.exceptions import NotFound
from backend.workflow.models import ProcessInstance

from .exceptions import TemplateRefused
from .models import DocumentTemplate, GeneratedDocument
from .rendering import template_path


@dataclass(frozen=True)
class TemplateSource:
    """The bytes of the template a document of some kind and language is filled from, and where from."""

    content: bytes
    sha256: str
    uploaded: DocumentTemplate | None

    @property
    def origin(self) -> str:
        return f"uploaded template #{self.uploaded.pk}" if self.uploaded else "shipped template"


def document_get(*, document_id: int) -> GeneratedDocument:
    try:
        return GeneratedDocument.objects.select_related("instance", "template").get(pk=document_id)
    except GeneratedDocument.DoesNotExist:
        raise NotFound(_("Document %(id)s does not exist.") % {"id": document_id}) from None


def documents_of_instance(*, instance: ProcessInstance) -> QuerySet[GeneratedDocument]:
    return GeneratedDocument.objects.filter(instance=instance).order_by("created_at")


def template_active(*, kind: str, language: str) -> DocumentTemplate | None:
    return DocumentTemplate.objects.filter(kind=kind, language=language, is_active=True).first()


def template_source(*, kind: str, language: str) -> TemplateSource:
    """The active uploaded template of the kind and language if there is one, else the shipped .docx."""
    uploaded = template_active(kind=kind, language=language)
    if uploaded is not None:
        with uploaded.file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != uploaded.sha256:
            # The file was replaced in storage behind the admin's back: it was never test-rendered.
            raise TemplateRefused(
                _("The stored file of uploaded template #%(id)s changed after it was checked; upload it again.")
                % {"id": uploaded.pk}
            )
    else:
        path = template_path(kind=kind, language=language)
        if not path.is_file():
            raise NotFound(_("There is no %(name)s template.") % {"name": path.name})
        content = path.read_bytes()
    return TemplateSource(content=content, sha256=hashlib.sha256(content).hexdigest(), uploaded=uploaded)
