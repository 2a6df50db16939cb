"""One family of application errors, mapped to HTTP by one handler."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A refusal the user can act on: a message, a machine code and field-level messages."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self, message: Any = None, *, code: str | None = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        self.message = str(message) if message is not None else str(_("The request could not be processed."))
        self.code = code or self.default_code
        self.fields = {key: [str(m) for m in msgs] for key, msgs in (fields or {}).items()}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    default_code = "invalid"


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class PayloadTooLarge(ApplicationError):
    """The body is larger than the API accepts (413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class Conflict(ApplicationError):
    """Someone else changed the same thing first; reload and try again."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten(value).items():
                    out[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub_key, sub_value in _flatten(item).items():
                        out[f"{key}.{index}.{sub_key}"] = sub_value
            else:
                out[str(key)] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    return {"non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the same shape: {"detail", "code", "fields"}."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own limits on form and multipart bodies (DATA_UPLOAD_MAX_MEMORY_SIZE) are the API's 413 too.
        message = str(_("The body is too large (at most %(n)s bytes).") % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        exc = PayloadTooLarge(message, fields={"non_field_errors": [message]})
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        message = str(_("The body has too many fields or files."))
        exc = ValidationFailed(message, code="invalid_body", fields={"non_field_errors": [message]})
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "code": exc.code, "fields": exc.fields}, status=exc.status_code)
    if isinstance(exc, DatabaseError):
        # Never an HTML page for the API: a lost connection is said in the API's shape.
        return Response(
            {
                "detail": str(_("The database could not be reached. Try again in a minute.")),
                "code": "database_unavailable",
                "fields": {},
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf_exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = {
            "detail": str(_("Please correct the marked fields.")),
            "code": "invalid",
            "fields": fields,
        }
    elif isinstance(exc, drf_exceptions.APIException):
        response.data = {"detail": str(exc.detail), "code": exc.get_codes(), "fields": {}}
    return response
