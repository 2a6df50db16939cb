"""The one way API bodies are read: a JSON object, bounded in size and depth, with no control characters.

Every refusal is a 400 in the API's one error shape, naming the field where there is one (a body above the
size limit is a 413 in the same shape).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser

from backend.core.text import text_problem


def _refuse(message: str, field: str = "non_field_errors", problem: str | None = None) -> Exception:
    # Imported here: DRF loads this parser while backend.core.exceptions is still importing DRF.
    from backend.core.exceptions import ValidationFailed

    return ValidationFailed(message, code="invalid_body", fields={field: [problem or message]})


def _depth_and_text(value: Any, path: str, depth: int, limit: int, fields: dict[str, list[str]]) -> None:
    if depth > limit:
        raise _refuse(_("The body is nested too deeply (at most %(n)s levels).") % {"n": limit})
    if isinstance(value, str):
        # Line breaks may be fine here (a comment); a field's own form refuses them where it takes one line.
        problem = text_problem(value, multiline=True)
        if problem:
            fields.setdefault(path or "non_field_errors", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if text_problem(str(key), multiline=False):
                fields.setdefault(name, []).append(_("This form has no such field."))
            _depth_and_text(item, name, depth + 1, limit, fields)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _depth_and_text(item, f"{path}.{index}", depth + 1, limit, fields)


class ObjectJSONParser(BaseParser):
    """application/json whose top level is an object (what every endpoint of this API takes)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> dict[str, Any]:
        limit = int(settings.QUJAT_API_MAX_BODY_BYTES)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            from backend.core.exceptions import PayloadTooLarge

            message = _("The body is too large (at most %(n)s bytes).") % {"n": limit}
            raise PayloadTooLarge(message, fields={"non_field_errors": [message]})
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise _refuse(
                _("The body is nested too deeply (at most %(n)s levels).") % {"n": settings.QUJAT_API_MAX_DEPTH}
            ) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise _refuse(_("The body is not valid JSON: %(error)s") % {"error": error}) from None
        if not isinstance(data, dict):
            raise _refuse(_("Send the fields as a JSON object."), problem=_("Not an object."))
        fields: dict[str, list[str]] = {}
        _depth_and_text(data, "", 0, int(settings.QUJAT_API_MAX_DEPTH), fields)
        if fields:
            from backend.core.exceptions import ValidationFailed

            raise ValidationFailed(_("Please correct the marked fields."), fields=fields)
        return data


class JsonAlways(DefaultContentNegotiation):
    """The API answers JSON whatever the client's Accept header asks for (a browser asks for HTML)."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: str | None = None) -> tuple[Any, str]:
        if format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE):
            return super().select_renderer(request, renderers, format_suffix)  # ?format=json on /api/schema/
        first = next(iter(renderers))
        return first, first.media_type
