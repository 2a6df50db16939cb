"""The inbox's wording of priorities and deadlines, as template filters."""

from __future__ import annotations

from django import template

from backend.inbox import wording

register = template.Library()
register.filter("priority_label", wording.priority_label)
register.filter("priority_style", wording.priority_style)
register.filter("due_phrase", wording.due_phrase)
register.filter("due_state", wording.due_state)
