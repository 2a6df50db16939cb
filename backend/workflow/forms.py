"""Task forms: a JSON Schema per user task (labels in kk/ru/en), validated with field-level messages."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from backend.core.exceptions import ValidationFailed
from backend.core.models import pick_language

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


def check_schema(schema: Mapping[str, Any]) -> None:
    """Refuse a form that is not a valid JSON Schema (used when deploying a diagram)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(exc.message) from exc
    if schema.get("type") != "object":
        raise ValueError('a task form is a JSON Schema of "type": "object"')


def _message(error: Any) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "type":
        names = {
            "integer": _("a whole number"),
            "number": _("a number"),
            "string": _("text"),
            "boolean": _("yes or no"),
            "array": _("a list"),
            "object": _("an object"),
        }
        return _("Enter %(what)s.") % {"what": names.get(value if isinstance(value, str) else "", value)}
    if kind == "enum" or kind == "const":
        return _("Choose one of the offered values.")
    if kind == "minLength":
        return _("This field may not be blank.") if value == 1 else _("Enter at least %(n)s characters.") % {"n": value}
    if kind == "maxLength":
        return _("Enter at most %(n)s characters.") % {"n": value}
    if kind == "minimum":
        return _("Must be at least %(n)s.") % {"n": value}
    if kind == "maximum":
        return _("Must be at most %(n)s.") % {"n": value}
    if kind == "minItems":
        return _("Choose at least %(n)s.") % {"n": value}
    if kind == "format":
        formats = {
            "date": _("Enter a valid date (YYYY-MM-DD)."),
            "email": _("Enter a valid e-mail address."),
            "date-time": _("Enter a valid date and time."),
        }
        return formats.get(value, _("Enter a valid value."))
    if kind == "pattern":
        return _("The value has the wrong format.")
    return str(error.message)


def validate(schema: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """The submitted data if it satisfies the form; otherwise ValidationFailed with a message per field."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            _("Send the form's fields as an object."), fields={"non_field_errors": [_("Not an object.")]}
        )
    fields: dict[str, list[str]] = {}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            for name in error.validator_value:
                if name not in present:
                    fields.setdefault(name, []).append(_("This field is required."))
            continue
        if error.validator == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    fields.setdefault(name, []).append(_("This form has no such field."))
            continue
        name = ".".join(str(part) for part in error.absolute_path) or "non_field_errors"
        fields.setdefault(name, []).append(_message(error))
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields=fields)
    return data


def localized(schema: Mapping[str, Any], language: str | None = None) -> dict[str, Any]:
    """The form as a client shows it: titles, labels and choice labels in one language."""
    form = copy.deepcopy(dict(schema))
    if "x-title" in form:
        form["title"] = pick_language(form.pop("x-title"), language)
    for name, prop in form.get("properties", {}).items():
        prop["title"] = pick_language(prop.pop("x-label", {}), language) or prop.get("title", name)
        if "x-help" in prop:
            prop["description"] = pick_language(prop.pop("x-help"), language)
        labels = prop.pop("x-enum-labels", None)
        if labels and "enum" in prop:
            prop["x-choices"] = [
                {"value": value, "label": pick_language(labels.get(value, {}), language) or str(value)}
                for value in prop["enum"]
            ]
    form["required"] = list(form.get("required", []))
    return form


def coerce(schema: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn an HTML form's strings into the schema's types; leave what doesn't convert for validation."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type")
        if kind == "boolean":
            data[name] = raw.get(name) in ("on", "true", "1", True)
            continue
        if name not in raw:
            continue
        if kind == "array":
            values = raw.getlist(name) if hasattr(raw, "getlist") else raw.get(name)
            data[name] = [v for v in (values or []) if v != ""]
            continue
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip()
            if value == "" and name not in schema.get("required", []):
                continue
            if kind == "integer" and value.lstrip("-").isdigit():
                value = int(value)
            elif kind == "number":
                with contextlib.suppress(ValueError):
                    value = float(value.replace(",", "."))
        data[name] = value
    return data
