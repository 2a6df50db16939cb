"""How the inbox words priorities and deadlines ("overdue by 2 days", "due in 5 hours")."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

DUE_SOON = timedelta(hours=24)


def priority_label(priority: int) -> str:
    if priority >= 2:
        return _("Urgent")
    if priority == 1:
        return _("High")
    return _("Normal")


def priority_style(priority: int) -> str:
    return "danger" if priority >= 2 else "warning" if priority == 1 else "secondary"


def due_state(due_at: datetime | None, now: datetime | None = None) -> str:
    """ "overdue", "soon" (within 24 hours), "later", or "" without a deadline: the colour of the deadline."""
    if due_at is None:
        return ""
    moment = now or timezone.now()
    if due_at < moment:
        return "overdue"
    return "soon" if due_at - moment <= DUE_SOON else "later"


def due_phrase(due_at: datetime | None, now: datetime | None = None) -> str:
    if due_at is None:
        return _("No deadline")
    moment = now or timezone.now()
    if due_at < moment:
        return _("Overdue by %(time)s") % {"time": timesince(due_at, moment, depth=1)}
    return _("Due in %(time)s") % {"time": timeuntil(due_at, moment, depth=1)}


def local_text(moment: datetime) -> str:
    """A date and time as the pages show them, in the university's time zone (no locale differences)."""
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def local_iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()
