"""Text kept in several languages (a step's title in the history), shown in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from backend.core.models import pick_language

register = template.Library()


@register.filter
def in_language(values: Any) -> str:
    """{"kk": …, "ru": …, "en": …} in the active language; a plain string as it is."""
    if isinstance(values, dict):
        return pick_language(values)
    return str(values or "")
