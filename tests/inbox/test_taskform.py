"""How a task's JSON Schema becomes the task page's form: one widget per kind of field, labels in the active
language, values kept after an error, and the reason that becomes required with some decisions."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from backend.inbox.taskform import form_data, task_form

SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-title": {"kk": "Шешім", "ru": "Решение", "en": "Decision"},
    "properties": {
        "decision": {
            "type": "string",
            "enum": ["approve", "return", "refuse"],
            "x-label": {"en": "Decision", "ru": "Решение"},
            "x-enum-labels": {
                "approve": {"en": "Approve", "ru": "Согласовать"},
                "return": {"en": "Return", "ru": "Вернуть"},
                "refuse": {"en": "Refuse", "ru": "Отказать"},
            },
        },
        "reason": {"type": "string", "maxLength": 2000, "x-widget": "textarea", "x-label": {"en": "Reason"}},
        "title": {"type": "string", "maxLength": 200, "x-label": {"en": "Title"}, "x-help": {"en": "As on the note"}},
        "hours": {"type": "integer", "minimum": 1, "maximum": 8, "x-label": {"en": "Hours"}},
        "share": {"type": "number", "x-label": {"en": "Share"}},
        "agreed": {"type": "boolean", "x-label": {"en": "I agree"}},
        "entered_on": {"type": "string", "format": "date", "x-label": {"en": "Date of the entry"}},
        "lesson": {
            "type": "string",
            "enum": ["lecture", "seminar"],
            "x-label": {"en": "Lesson"},
            "x-enum-labels": {"lecture": {"en": "Lecture"}, "seminar": {"en": "Seminar"}},
        },
        "group": {"type": "string", "enum": ["101", "102", "103", "104", "105"], "x-label": {"en": "Group"}},
        "types": {
            "type": "array",
            "items": {"type": "string", "enum": ["current", "midterm", "final"]},
            "x-label": {"en": "Controls"},
            "x-enum-labels": {"current": {"en": "Current"}, "midterm": {"en": "Midterm"}, "final": {"en": "Final"}},
        },
    },
    "required": ["decision", "title"],
    "allOf": [
        {
            "if": {"properties": {"decision": {"enum": ["return", "refuse"]}}, "required": ["decision"]},
            "then": {"required": ["reason"]},
        }
    ],
}


def fields(form: Any) -> dict[str, Any]:
    return {field.name: field for field in form.fields}


def test_each_kind_of_field_gets_its_widget() -> None:
    form = task_form(SCHEMA, language="en")
    assert form.title == "Decision"
    assert [(c.value, c.label, c.style) for c in form.decisions] == [
        ("approve", "Approve", "success"),
        ("return", "Return", "warning"),
        ("refuse", "Refuse", "danger"),
    ]
    widgets = {name: field.widget for name, field in fields(form).items()}
    assert widgets == {
        "reason": "textarea",
        "title": "text",
        "hours": "integer",
        "share": "number",
        "agreed": "checkbox",
        "entered_on": "date",
        "lesson": "radio",
        "group": "select",  # more than four choices
        "types": "checkboxes",
    }
    by_name = fields(form)
    assert by_name["hours"].attrs == {"min": 1, "max": 8, "step": 1}
    assert by_name["title"].required
    assert by_name["title"].help == "As on the note"
    assert by_name["title"].attrs == {"maxlength": 200}
    assert [c.label for c in by_name["types"].choices] == ["Current", "Midterm", "Final"]
    assert by_name["reason"].required is False
    assert by_name["reason"].required_when == "Required when you choose: Return, Refuse."


def test_labels_follow_the_language() -> None:
    form = task_form(SCHEMA, language="ru")
    assert form.title == "Решение"
    assert [c.label for c in form.decisions] == ["Согласовать", "Вернуть", "Отказать"]


def test_what_was_typed_is_kept_with_the_errors() -> None:
    posted = QueryDict(mutable=True)
    posted.update({"title": "Journal", "hours": "12", "lesson": "seminar", "agreed": "on", "group": "103"})
    posted.setlist("types", ["midterm", "final"])
    form = task_form(SCHEMA, language="en", values=posted, errors={"hours": ["Must be at most 8."], "other": ["x"]})
    by_name = fields(form)
    assert by_name["title"].value == "Journal"
    assert by_name["hours"].value == "12"
    assert by_name["hours"].errors == ["Must be at most 8."]
    assert [c.value for c in by_name["lesson"].choices if c.selected] == ["seminar"]
    assert [c.value for c in by_name["group"].choices if c.selected] == ["103"]
    assert [c.value for c in by_name["types"].choices if c.selected] == ["midterm", "final"]
    assert by_name["agreed"].checked is True
    assert form.errors == ["x"]  # a message for no field is still shown


def test_the_posted_form_is_typed_for_the_engine() -> None:
    posted = QueryDict(mutable=True)
    posted.update({"decision": "approve", "title": " Journal ", "hours": "3", "share": "0,5", "reason": ""})
    posted.setlist("types", ["current"])
    assert form_data(SCHEMA, posted) == {
        "decision": "approve",
        "title": "Journal",
        "hours": 3,
        "share": 0.5,
        "agreed": False,
        "types": ["current"],
    }


def test_a_form_without_fields_is_just_a_button() -> None:
    form = task_form(None)
    assert form.is_empty
    assert form.decisions == []
