"""Query parameters checked the same way on pages and in the API: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from .exceptions import ValidationFailed
from .text import text_problem

# Database ids are PostgreSQL bigints, but no id of ours comes near this; a larger number is a mistake.
MAX_ID = 2**31 - 1


def _refuse(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the marked fields."), fields={name: [message]})


def query_int(params: Mapping[str, Any], name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """An optional whole number between minimum and maximum (an id by default); None when absent or empty."""
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise _refuse(name, _("Enter a whole number."))
    value = int(raw)
    if not minimum <= value <= maximum:
        raise _refuse(name, _("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum})
    return value


def query_choice(params: Mapping[str, Any], name: str, choices: Sequence[str], default: str) -> str:
    """One of the offered values; the default when absent."""
    raw = str(params.get(name) or "").strip() or default
    if raw not in choices:
        raise _refuse(name, _("Choose one of the offered values."))
    return raw


def query_text(params: Mapping[str, Any], name: str, *, max_length: int = 200) -> str:
    """A short one-line text; empty when absent."""
    raw = str(params.get(name) or "").strip()
    problem = text_problem(raw, multiline=False)
    if problem:
        raise _refuse(name, problem)
    if len(raw) > max_length:
        raise _refuse(name, _("Enter at most %(n)s characters.") % {"n": max_length})
    return raw


def query_date(params: Mapping[str, Any], name: str) -> date | None:
    """An optional date written YYYY-MM-DD; None when absent or empty."""
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _refuse(name, _("Enter a date as YYYY-MM-DD.")) from None
