"""`Idempotency-Key` on API writes that must not happen twice: starts, completions, bulk actions.

- A request with a key runs in one transaction together with the row that records its answer (per user and
  key), so the answer is stored exactly when the change commits. A retry with the same key and the same
  request gets that first answer again (with `Idempotent-Replayed: true`) and changes nothing; the same key
  with a different request is refused (422). A retry that arrives while the first is still running waits for
  it (the key's unique row) and then gets its answer. Keys are kept `QUJAT_IDEMPOTENCY_HOURS` (24) per user.
- Whether or not a key is sent, the answer is built inside the transaction, so nothing that can fail runs
  after the commit except the commit itself; if the connection is lost exactly there, the answer is a JSON
  503 saying the change may have been saved and how to find out. Never an HTML page.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from .exceptions import ApplicationError
from .models import IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) of up to 255 characters. A retry with the same key and body returns the first "
        "answer instead of doing the change again; the same key with another body is refused with 422."
    ),
)


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    default_code = "idempotency_key_reused"


class _Uncertain(ApplicationError):
    status_code = 503
    default_code = "commit_uncertain"


class _NotSaved(ApplicationError):
    status_code = 503
    default_code = "not_saved"


def _keep_for() -> timedelta:
    return timedelta(hours=getattr(settings, "QUJAT_IDEMPOTENCY_HOURS", 24))


def _fingerprint(request: Request) -> str:
    try:
        body: Any = request.data
        body = body.dict() if hasattr(body, "dict") else body
        text = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    except (TypeError, ValueError):
        text = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{text}".encode()).hexdigest()


def _key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ApplicationError(
            _("The Idempotency-Key header must be 1 to %(max)s printable characters.") % {"max": MAX_KEY},
            fields={HEADER: [_("1 to %(max)s printable characters.") % {"max": MAX_KEY}]},
        )
    return key


def _replay(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used for a different request; use a new key for a new request.")
        )
    headers = {"Idempotent-Replayed": "true"}
    if row.location:
        headers["Location"] = row.location
    return Response(row.response, status=row.status_code, headers=headers)


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user_id=user_id, key=key, created_at__gte=timezone.now() - _keep_for()).first()


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Make an APIView write answer retries with its first answer (see the module's docstring)."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key_of(request)
        user = request.user
        fingerprint = _fingerprint(request) if key else ""
        if key and user.is_authenticated:
            earlier = _find(user.pk, key)
            if earlier is not None:
                return _replay(earlier, fingerprint)
        committing = False
        try:
            with transaction.atomic():
                if key and user.is_authenticated:
                    # Expired keys of this user go; the key is free again after the period.
                    IdempotencyKey.objects.filter(user_id=user.pk, created_at__lt=timezone.now() - _keep_for()).delete()
                response = handler(view, request, *args, **kwargs)
                if key and user.is_authenticated and response.status_code < 400:
                    data = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                    with transaction.atomic():
                        IdempotencyKey.objects.create(
                            user_id=user.pk,
                            key=key,
                            fingerprint=fingerprint,
                            status_code=response.status_code,
                            response=data,
                            location=response.headers.get("Location", ""),
                        )
                committing = True
        except ApplicationError:
            # A retry that waited behind the first request with its key (say, on the case's lock) is refused
            # by what the first one did ("already completed"): the first answer is its answer.
            earlier = _find(user.pk, key) if key and user.is_authenticated else None
            if earlier is None:
                raise
            return _replay(earlier, fingerprint)
        except IntegrityError:
            if not (key and user.is_authenticated):
                raise
            # A request with the same key committed first while this one ran: its answer is the answer.
            earlier = _find(user.pk, key)
            if earlier is None:
                raise
            return _replay(earlier, fingerprint)
        except DatabaseError:
            if not committing:
                logger.exception("%s %s lost its database connection before the commit", request.method, request.path)
                raise _NotSaved(
                    _("The connection to the database was lost; nothing was saved. Send the request again.")
                ) from None
            logger.exception("the commit of %s %s failed; it may have been saved", request.method, request.path)
            if key:
                message = _(
                    "The connection to the database was lost while saving: the change may have been made. "
                    "Send the same request with the same Idempotency-Key to get its result."
                )
            else:
                message = _(
                    "The connection to the database was lost while saving: the change may have been made. "
                    "Reload to see whether it was."
                )
            raise _Uncertain(message) from None
        return response

    return wrapper
