"""How the inbox words priorities and deadlines ("overdue by 2 days", "due in 5 hours")."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def priority_label(priority: int) -> str:
    if priority >= 2:
        return _("Urgent")
    if priority == 1:
        return _("High")
    return _("Normal")


@register.filter
def priority_style(priority: int) -> str:
    return "danger" if priority >= 2 else "warning" if priority == 1 else "secondary"


@register.filter
def due_phrase(due_at: datetime | None) -> str:
    if due_at is None:
        return _("No deadline")
    now = timezone.now()
    if due_at < now:
        return _("Overdue by %(time)s") % {"time": timesince(due_at, now, depth=1)}
    return _("Due in %(time)s") % {"time": timeuntil(due_at, now, depth=1)}


@register.filter
def due_state(due_at: datetime | None) -> str:
    from backend.inbox.selectors import DUE_SOON

    if due_at is None:
        return ""
    now = timezone.now()
    return "overdue" if due_at < now else "soon" if due_at - now <= DUE_SOON else "later"
