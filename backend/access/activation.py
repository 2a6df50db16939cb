"""One-time activation links: a random token of which only the SHA-256 is stored, used once to set a password.

Nobody but the account holder ever knows their password: it is not generated, printed, logged or mailed. The
link expires with the request's activation period (72 hours); a fresher link replaces the older one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, ValidationFailed
from backend.workflow import services as workflow
from backend.workflow.history import history_record
from backend.workflow.models import ProcessInstance

from . import emails
from .models import AccessEntry, ActivationToken

ACTIVATION_PERIOD = timedelta(hours=72)
REMINDER_AFTER = timedelta(hours=48)
MESSAGE_ACTIVATED = "accounts_activated"


class LinkRefused(ApplicationError):
    """The activation link cannot be used (unknown, used, replaced or expired); nothing changed."""

    status_code = status.HTTP_410_GONE
    default_code = "link_refused"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def activation_url(raw: str) -> str:
    return f"{settings.QUJAT_SITE_URL}{reverse('web:access-activate', args=[raw])}"


def token_issue(*, entry: AccessEntry, expires_at: datetime, reminder: bool = False) -> None:
    """A fresh link for the entry's account (older open links stop working), mailed once the change commits."""
    assert entry.account is not None  # noqa: S101 - a link is issued for an account that exists
    now = timezone.now()
    entry.tokens.filter(used_at=None, revoked_at=None).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    ActivationToken.objects.create(
        entry=entry, user=entry.account, token_hash=token_hash(raw), created_at=now, expires_at=expires_at
    )
    # The raw token lives only in this closure and in the e-mail: never in the database, a log or a queue.
    transaction.on_commit(
        partial(
            emails.activation_mail_send,
            entry_id=entry.pk,
            link=activation_url(raw),
            expires_at=expires_at,
            reminder=reminder,
        )
    )


def tokens_revoke(*, entry: AccessEntry) -> int:
    return entry.tokens.filter(used_at=None, revoked_at=None).update(revoked_at=timezone.now())


def _usable(token: ActivationToken | None) -> ActivationToken:
    if token is None:
        raise LinkRefused(
            _("This activation link is not valid. Open the link from the e-mail exactly as it was sent."),
            code="link_invalid",
            fields={"token": [_("Unknown activation link.")]},
        )
    if token.used_at is not None:
        raise LinkRefused(
            _("This activation link has already been used. Sign in with the password you chose."),
            code="link_used",
            fields={"token": [_("The link was already used.")]},
        )
    if token.revoked_at is not None:
        raise LinkRefused(
            _("This link was replaced by a newer one. Use the link from the latest e-mail."),
            code="link_replaced",
            fields={"token": [_("A newer link was sent.")]},
        )
    if token.entry.request.instance.status == ProcessInstance.Status.CANCELLED:
        raise LinkRefused(
            _("This request was cancelled, so its links no longer work."),
            code="link_cancelled",
            fields={"token": [_("The request was cancelled.")]},
        )
    if token.expires_at <= timezone.now():
        raise LinkRefused(
            _("This activation link has expired. The IT department (or the dean's office) can send a new one."),
            code="link_expired",
            fields={"token": [_("The link has expired.")]},
        )
    return token


def token_check(raw: str) -> ActivationToken:
    """The usable token behind a link, or LinkRefused saying why it cannot be used."""
    token = (
        ActivationToken.objects.select_related("user", "entry__request__instance")
        .filter(token_hash=token_hash(raw or ""))
        .first()
    )
    return _usable(token)


@transaction.atomic
def account_activate(*, raw_token: str, password: str, password_again: str | None = None) -> User:
    """Set the account holder's own password through their link; the link is spent and the case is told."""
    found = token_check(raw_token)
    # The case's row lock first: an activation and the case's own steps never interleave.
    ProcessInstance.objects.select_for_update().filter(pk=found.entry.request.instance_id).values_list("pk").first()
    token = _usable(
        ActivationToken.objects.select_for_update(of=("self",))
        .select_related("user", "entry__request__instance")
        .filter(pk=found.pk)
        .first()
    )
    user = token.user
    if password_again is not None and password != password_again:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"password_again": [_("The two passwords differ.")]},
        )
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationFailed(_("Please correct the marked fields."), fields={"password": error.messages}) from None
    now = timezone.now()
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    token.used_at = now
    token.save(update_fields=["used_at"])
    entry = token.entry
    entry.status = AccessEntry.Status.ACTIVE
    entry.activated_at = now
    entry.save(update_fields=["status", "activated_at"])
    tokens_revoke(entry=entry)
    instance = entry.request.instance
    history_record(
        instance=instance,
        kind="note",
        actor=user,
        payload={"event": "account_activated", "username": user.username, "person": entry.full_name},
    )
    if not entry.request.entries.filter(status=AccessEntry.Status.INVITED).exists():
        # The last link of the request was used: the case, waiting for it, goes on. (While the case is elsewhere,
        # still creating a group's accounts, nothing waits: it counts the activations when it gets there.)
        workflow.instance_message(
            instance_id=instance.pk, name=MESSAGE_ACTIVATED, payload={"username": user.username}, actor=user
        )
    return user
