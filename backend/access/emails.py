"""E-mails of login requests, in the account holder's language. None of them ever carries a password."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from .models import AccessEntry

logger = logging.getLogger(__name__)


def _language(entry: AccessEntry) -> str:
    return (entry.account.language if entry.account else "") or entry.language


def _send(*, entry: AccessEntry, template: str, subject: object, context: dict[str, object]) -> None:
    """Render and send in the holder's language.

    The change that sends it has committed: a mail server's refusal is logged, and neither fails the step that
    sent it nor keeps the other people of the request from getting theirs (IT can resend the links).
    """
    account = entry.account
    address = (account.email if account else "") or entry.email
    if not address:
        return
    with override(_language(entry)):
        text = str(subject)
        body = render_to_string(template, {"entry": entry, "account": account, **context})
    try:
        send_mail(subject=text, message=body, from_email=None, recipient_list=[address])
    except OSError:  # SMTP errors are OSErrors; the body (it may hold a link) is never logged
        logger.exception("could not send %s to the holder of login request entry %s", template, entry.pk)


def activation_mail_send(*, entry_id: int, link: str, expires_at: datetime, reminder: bool = False) -> None:
    """The one-time link to set one's own password (or a reminder with a fresh one)."""
    entry = AccessEntry.objects.select_related("account").get(pk=entry_id)
    _send(
        entry=entry,
        template="access/email/activation.txt",
        subject=_("Reminder: activate your Qujat account") if reminder else _("Your Qujat account: set your password"),
        context={
            "link": link,
            "expires_at": timezone.localtime(expires_at).strftime("%d.%m.%Y %H:%M"),
            "reminder": reminder,
        },
    )


def access_added_mail_send(*, entry_id: int) -> None:
    """An existing, active account got the role it was asked for (no new password is needed)."""
    entry = AccessEntry.objects.select_related("account", "request__department", "request__school").get(pk=entry_id)
    unit = entry.request.department or entry.request.school
    _send(
        entry=entry,
        template="access/email/access_added.txt",
        subject=_("Qujat: new access added to your account"),
        context={"unit": unit.name_in(_language(entry)) if unit else "", "login": f"{settings.QUJAT_SITE_URL}/login/"},
    )
