"""A task's JSON Schema form as the task page shows it: widgets, localized labels, typed-in values and errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from backend.core.models import pick_language
from backend.workflow import forms

DECISION = "decision"
DECISION_STYLES = {"approve": "success", "return": "warning", "refuse": "danger", "reject": "danger"}
RADIO_LIMIT = 4
LONG_TEXT = 255


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool = False
    style: str = "primary"


@dataclass
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, date, integer, number, checkbox, radio, select, checkboxes
    help: str = ""
    required: bool = False
    required_when: str = ""  # "Required when you choose: Return, Refuse"
    condition: dict[str, list[str]] = field(default_factory=dict)  # for the page script
    value: str = ""
    checked: bool = False
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"field-{self.name}"


@dataclass
class TaskForm:
    title: str
    fields: list[FormField]
    decisions: list[Choice]  # approve / return / refuse buttons when the form has a `decision` field
    decision_label: str = ""
    decision_errors: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # messages that belong to no field

    @property
    def is_empty(self) -> bool:
        return not self.fields and not self.decisions


def _conditions(schema: Mapping[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """Fields that become required when another field has some value (JSON Schema if/then clauses)."""
    result: dict[str, dict[str, list[Any]]] = {}
    clauses = [*schema.get("allOf", []), *([schema] if "if" in schema else [])]
    for clause in clauses:
        condition = (clause.get("if") or {}).get("properties", {})
        for name in (clause.get("then") or {}).get("required", []):
            for controller, rule in condition.items():
                values = [rule["const"]] if "const" in rule else list(rule.get("enum", []))
                result.setdefault(name, {}).setdefault(controller, []).extend(values)
    return result


def _choice_labels(raw: Mapping[str, Any], localized: Mapping[str, Any], language: str | None) -> dict[Any, str]:
    if localized.get("x-choices"):
        return {c["value"]: c["label"] for c in localized["x-choices"]}
    # forms.localized() labels a plain enum; an array's item choices are labelled here.
    labels = raw.get("x-enum-labels") or raw.get("items", {}).get("x-enum-labels") or {}
    values = raw.get("enum") or raw.get("items", {}).get("enum") or []
    return {value: pick_language(labels.get(value, {}), language) or str(value) for value in values}


def _submitted(values: Mapping[str, Any], name: str, many: bool) -> Any:
    if many:
        return values.getlist(name) if hasattr(values, "getlist") else list(values.get(name) or [])
    return values.get(name)


def task_form(
    schema: Mapping[str, Any] | None,
    *,
    language: str | None = None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> TaskForm:
    """The form to render: `values` are what the person typed (kept after an error), `errors` per field."""
    schema = schema or forms.EMPTY_FORM
    localized = forms.localized(schema, language)
    values = values if values is not None else {}
    errors = dict(errors or {})
    submitted = bool(values)
    required = set(localized.get("required", []))
    conditions = _conditions(schema)
    raw_properties = schema.get("properties", {})
    fields: list[FormField] = []
    decisions: list[Choice] = []
    decision_label = ""
    for name, prop in localized.get("properties", {}).items():
        raw = raw_properties.get(name, {})
        kind = prop.get("type")
        labels = _choice_labels(raw, prop, language)
        if name == DECISION and kind == "string" and labels:
            decisions = [
                Choice(value=str(v), label=label, style=DECISION_STYLES.get(str(v), "primary"))
                for v, label in labels.items()
            ]
            decision_label = prop.get("title", name)
            continue
        form_field = FormField(
            name=name,
            label=prop.get("title", name),
            help=prop.get("description", ""),
            widget="text",
            required=name in required,
            errors=[str(m) for m in errors.pop(name, [])],
        )
        if name in conditions and name not in required:
            form_field.condition = {k: [str(v) for v in vs] for k, vs in conditions[name].items()}
            shown = []
            for controller, wanted in conditions[name].items():
                controller_labels = _choice_labels(raw_properties.get(controller, {}), {}, language)
                shown += [controller_labels.get(v, str(v)) for v in wanted]
            form_field.required_when = _("Required when you choose: %(choices)s.") % {"choices": ", ".join(shown)}
        default = prop.get("default")
        if kind == "boolean":
            form_field.widget = "checkbox"
            form_field.checked = (
                _submitted(values, name, False) in ("on", "true", "1", True) if submitted else bool(default)
            )
        elif kind == "array":
            chosen = [str(v) for v in (_submitted(values, name, True) if submitted else default or [])]
            form_field.widget = "checkboxes"
            form_field.choices = [Choice(str(v), label, str(v) in chosen) for v, label in labels.items()]
        elif labels:
            current = str(_submitted(values, name, False) if submitted else default or "")
            widget = prop.get("x-widget")
            form_field.widget = (
                widget if widget in ("radio", "select") else ("radio" if len(labels) <= RADIO_LIMIT else "select")
            )
            form_field.choices = [Choice(str(v), label, str(v) == current) for v, label in labels.items()]
        else:
            value = _submitted(values, name, False) if submitted else default
            form_field.value = "" if value is None else str(value)
            if kind in ("integer", "number"):
                form_field.widget = kind
                form_field.attrs = {
                    key: prop[source] for key, source in (("min", "minimum"), ("max", "maximum")) if source in prop
                }
                form_field.attrs["step"] = 1 if kind == "integer" else "any"
            elif prop.get("format") == "date":
                form_field.widget = "date"
            elif prop.get("x-widget") == "textarea" or int(prop.get("maxLength") or 0) > LONG_TEXT:
                form_field.widget = "textarea"
            if "maxLength" in prop:
                form_field.attrs["maxlength"] = prop["maxLength"]
        fields.append(form_field)
    decision_errors = [str(m) for m in errors.pop(DECISION, [])] if decisions else []
    leftover = [str(m) for messages in errors.values() for m in messages]
    return TaskForm(
        title=str(localized.get("title", "")),
        fields=fields,
        decisions=decisions,
        decision_label=decision_label,
        decision_errors=decision_errors,
        errors=leftover,
    )


def form_data(schema: Mapping[str, Any] | None, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The posted HTML form as the schema's types (the pressed decision button included)."""
    return forms.coerce(schema or forms.EMPTY_FORM, raw)
