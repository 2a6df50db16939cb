"""E-mails of login requests, in the account holder's language. None of them ever carries a password."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from .models import AccessEntry


def _send(*, entry: AccessEntry, template: str, subject: str, context: dict[str, object]) -> None:
    account = entry.account
    address = (account.email if account else "") or entry.email
    if not address:
        return
    body = render_to_string(template, {"entry": entry, "account": account, "site": settings.QUJAT_SITE_URL, **context})
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[address])


def activation_mail_send(*, entry_id: int, link: str, expires_at: datetime, reminder: bool = False) -> None:
    """The one-time link to set one's own password (or a reminder with a fresh one)."""
    entry = AccessEntry.objects.select_related("account", "request__department", "request__group").get(pk=entry_id)
    language = (entry.account.language if entry.account else "") or entry.language
    with override(language):
        subject = _("Reminder: activate your Qujat account") if reminder else _("Your Qujat account: set your password")
        _send(
            entry=entry,
            template="access/email/activation.txt",
            subject=str(subject),
            context={
                "link": link,
                "expires_at": timezone.localtime(expires_at).strftime("%d.%m.%Y %H:%M"),
                "reminder": reminder,
            },
        )


def access_added_mail_send(*, entry_id: int) -> None:
    """An existing, active account got the role it was asked for (no new password is needed)."""
    entry = AccessEntry.objects.select_related("account", "request__department", "request__school").get(pk=entry_id)
    language = (entry.account.language if entry.account else "") or entry.language
    with override(language):
        unit = entry.request.department or entry.request.school
        _send(
            entry=entry,
            template="access/email/access_added.txt",
            subject=str(_("Qujat: new access added to your account")),
            context={"unit": unit.name_in(language) if unit else "", "login": f"{settings.QUJAT_SITE_URL}/login/"},
        )
