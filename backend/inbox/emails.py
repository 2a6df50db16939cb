"""The e-mails of the inbox, written in the recipient's language, with links to the task pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backend.accounts.models import User

from .models import Notice
from .selectors import case_subject


@dataclass(frozen=True)
class NoticeLine:
    kind: str
    kind_label: str
    title: str
    subject: str
    due_at: datetime | None
    link: str


def task_link(task_id: int) -> str:
    return f"{settings.QUJAT_SITE_URL}{reverse('web:task', args=[task_id])}"


def _line(notice: Notice) -> NoticeLine:
    task = notice.task
    title = task.instance.definition.title_in()
    subject = case_subject(task.subject_in(), title, task.instance.shown_number)
    return NoticeLine(
        kind=notice.kind,
        kind_label=str(Notice.Kind(notice.kind).label),
        title=task.title_in(),
        subject=subject,
        due_at=timezone.localtime(task.due_at) if task.due_at else None,
        link=task_link(task.pk),
    )


def _subject(notices: list[Notice], *, digest: bool) -> str:
    if digest:
        return _("Qujat: your tasks today (%(count)s)") % {"count": len(notices)}
    if len(notices) > 1:
        return _("Qujat: %(count)s notices about your tasks") % {"count": len(notices)}
    notice = notices[0]
    title = notice.task.title_in()
    subjects = {
        Notice.Kind.NEW: _("New task: %(title)s"),
        Notice.Kind.DUE_SOON: _("Due within 24 hours: %(title)s"),
        Notice.Kind.REMINDER: _("Reminder: %(title)s"),
        Notice.Kind.ESCALATED: _("Overdue task passed to you: %(title)s"),
    }
    return "Qujat: " + subjects[Notice.Kind(notice.kind)] % {"title": title}


def notice_email(*, user: User, notices: list[Notice], digest: bool = False, open_tasks: int = 0) -> EmailMessage:
    """One e-mail to `user` about `notices` (their tasks loaded), in the user's own language."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = [_line(notice) for notice in notices]
        body = render_to_string(
            "inbox/email/notices.txt",
            {
                "user": user,
                "lines": lines,
                "digest": digest,
                "open_tasks": open_tasks,
                "inbox_link": f"{settings.QUJAT_SITE_URL}{reverse('web:inbox')}",
            },
        )
        subject = _subject(notices, digest=digest)
    return EmailMessage(subject=subject, body=body, to=[user.email])
