"""Task forms: a JSON Schema per user task (labels in kk/ru/en), validated with field-level messages."""

from __future__ import annotations

import contextlib
import copy
import datetime
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from backend.core.exceptions import ValidationFailed
from backend.core.models import pick_language
from backend.core.text import text_problem

START_FORM = "__start__"

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
ANY_OBJECT: dict[str, Any] = {"type": "object"}


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
    custom = error.schema.get("x-messages", {}).get(kind) if isinstance(error.schema, Mapping) else None
    if custom:
        # A form may word a rule its own way: {"x-messages": {"pattern": {"kk": …, "ru": …, "en": …}}}.
        return pick_language(custom, None)
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
        if error.instance == "":
            return _("This field is required.")
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


def _date_problem(schema: Mapping[str, Any], value: str) -> str | None:
    """A date outside the form's window around today: `"x-days-from-today": [-60, 366]`."""
    window = schema.get("x-days-from-today")
    if not window or schema.get("format") != "date":
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None  # the format check says so
    today = timezone.localdate()
    if today + datetime.timedelta(days=window[0]) <= day <= today + datetime.timedelta(days=window[1]):
        return None
    custom = schema.get("x-messages", {}).get("x-days-from-today")
    return pick_language(custom, None) if custom else _("Choose a date nearer to today.")


def _text_problems(schema: Mapping[str, Any], value: Any, path: str, fields: dict[str, list[str]]) -> None:
    """Control characters in any text of the data: the one check every form's text goes through.

    Tab and newline are allowed only in multi-line fields (`"x-widget": "textarea"`).
    """
    if isinstance(value, str):
        problem = text_problem(value, multiline=schema.get("x-widget") == "textarea") or _date_problem(schema, value)
        if problem:
            fields.setdefault(path or "non_field_errors", []).append(problem)
    elif isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            _text_problems(properties.get(key, {}), item, f"{path}.{key}" if path else str(key), fields)
    elif isinstance(value, list):
        items = schema.get("items", {})
        for index, item in enumerate(value):
            _text_problems(items if isinstance(items, Mapping) else {}, item, f"{path}.{index}", fields)


def validate(schema: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """The submitted data if it satisfies the form; otherwise ValidationFailed with a message per field."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            _("Send the form's fields as an object."), fields={"non_field_errors": [_("Not an object.")]}
        )
    fields: dict[str, list[str]] = {}
    _text_problems(schema, data, "", fields)
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
        message = _message(error)
        if message not in fields.get(name, []):
            fields.setdefault(name, []).append(message)
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields=fields)
    return data


def typed(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated data as a service takes it: the form's defaults filled in, dates as `date`, text trimmed."""

    def convert(prop: Mapping[str, Any], value: Any) -> Any:
        if isinstance(value, str):
            if prop.get("format") == "date":
                return datetime.date.fromisoformat(value)
            return value.strip()
        if isinstance(value, list):
            items = prop.get("items", {})
            return [convert(items if isinstance(items, Mapping) else {}, item) for item in value]
        if isinstance(value, dict):
            return typed(prop, value)
        return value

    properties = schema.get("properties", {})
    result = {name: copy.deepcopy(prop["default"]) for name, prop in properties.items() if "default" in prop}
    result.update({name: convert(properties.get(name, {}), value) for name, value in data.items()})
    return result


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
