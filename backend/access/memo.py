"""The head of department's memo (form No. 2): its fields and its generation; the head signs it in their task."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders
from backend.core.exceptions import ApplicationError
from backend.documents.letterhead import format_date, letterhead
from backend.documents.models import GeneratedDocument
from backend.documents.services import document_request
from backend.signatures.models import Signature

from .models import AccessRequest

MEMO_KIND = "login_request"


def memo_language(language: str) -> str:
    """Form No. 2 exists in Kazakh and Russian: a head working in English files it in Russian."""
    return language if language in ("kk", "ru") else "ru"


def memo_context(request: AccessRequest, language: str) -> dict[str, Any]:
    """The fields of document_templates' login_request template, formatted as they are printed."""
    assert request.department is not None  # noqa: S101 - a teachers' request names its department
    it_heads = role_holders(role=Role.IT_HEAD, org_unit=request.department)
    head = request.requested_by
    return {
        **letterhead(language),
        "addressee": {"name": it_heads[0].user.short_name if it_heads else ""},
        "teachers": [
            {
                "position": entry.position,
                "full_name": entry.full_name,
                "email": entry.email,
                "start_date": format_date(entry.start_date) if isinstance(entry.start_date, date) else "",
            }
            for entry in request.entries.order_by("order", "pk")
        ],
        "department": {"name": request.department.name_in(language)},
        "department_head": {"name": head.short_name},
    }


def memo_generate(*, request: AccessRequest, actor: User | None) -> GeneratedDocument:
    """Number the memo and have it generated (in the background, once the case's step commits)."""
    language = memo_language(request.language)
    document = document_request(
        kind=MEMO_KIND,
        language=language,
        context=memo_context(request, language),
        instance=request.instance,
        key="memo",
        allocate_number=True,
        actor=actor,
    )
    request.memo = document
    request.save(update_fields=["memo"])
    return document


def memo_record_signed(*, request: AccessRequest) -> bool:
    """The head signed the memo in the signature step (backend/signatures/task_signing.py): note when."""
    signature = (
        Signature.objects.filter(document_id=request.memo_id, kind=Signature.Kind.PADES).order_by("signed_at").last()
        if request.memo_id
        else None
    )
    if signature is None:
        raise ApplicationError(_("The memo has not been signed."), code="not_signed")
    AccessRequest.objects.filter(pk=request.pk).update(memo_signed_at=signature.signed_at, signing_problem="")
    return True
