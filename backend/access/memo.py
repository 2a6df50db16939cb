"""The head of department's memo (form No. 2): its fields, its generation and the head's PAdES signature."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders
from backend.core.exceptions import ApplicationError
from backend.documents.exceptions import ConversionTimedOut, ConverterUnavailable
from backend.documents.kinds import kind_get
from backend.documents.letterhead import format_date, letterhead
from backend.documents.models import GeneratedDocument
from backend.documents.services import document_generate, document_request
from backend.signatures.services import document_publish, document_sign, public_name
from backend.workflow import services as workflow
from backend.workflow.history import history_record

from .models import AccessRequest

MEMO_KIND = "login_request"
MESSAGE_SIGNED = "memo_signed"
MESSAGE_NOT_SIGNED = "memo_not_signed"

logger = logging.getLogger(__name__)


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


def _not_signed(request: AccessRequest, problem: str, signer: User | None) -> None:
    with transaction.atomic():
        AccessRequest.objects.filter(pk=request.pk).update(signing_problem=problem[:500])
        history_record(
            instance=request.instance,
            kind="note",
            actor=signer,
            payload={"event": "memo_not_signed", "reason": problem},
        )
        workflow.instance_message(
            instance_id=request.instance_id, name=MESSAGE_NOT_SIGNED, payload={"reason": problem}, actor=signer
        )


def memo_sign_now(*, request_id: int, signer_id: int) -> bool:
    """Sign the memo with the signer's certificate (PAdES) and tell the case; say why when it cannot be signed.

    Runs after the signing step commits (a Celery task), so the signature's history event is written in a
    transaction of its own. Safe to retry: a signed memo is not signed again.
    """
    request = AccessRequest.objects.select_related("instance", "memo", "requested_by").get(pk=request_id)
    signer = User.objects.get(pk=signer_id)
    if request.memo_signed_at is not None:
        return True
    if request.memo is None:
        _not_signed(request, _("The memo has not been generated."), signer)
        return False
    try:
        document = document_generate(document_id=request.memo.pk)  # already generated: returned as it is
    except (ConverterUnavailable, ConversionTimedOut):
        raise  # the converter comes back: the task is retried
    except ApplicationError as error:
        _not_signed(request, _("The memo could not be generated: %(error)s") % {"error": error.message}, signer)
        return False
    language = document.language
    try:
        with transaction.atomic():
            published = document_publish(
                document=document,
                holder=None,
                holder_public_name=public_name(
                    last_name=signer.last_name, first_name=signer.first_name, patronymic=signer.patronymic
                ),
            )
            signature = document_sign(
                published=published,
                signer=signer,
                language=language,
                position=signer.position,
                reason=kind_get(MEMO_KIND).title_in(language),
            )
            AccessRequest.objects.filter(pk=request.pk).update(memo_signed_at=timezone.now(), signing_problem="")
            workflow.instance_message(
                instance_id=request.instance_id,
                name=MESSAGE_SIGNED,
                payload={"document": document.pk, "signature": signature.pk},
                actor=signer,
            )
    except ApplicationError as error:
        logger.info("memo of request %s not signed: %s", request.pk, error.code)
        _not_signed(request, error.message, signer)
        return False
    return True
