"""The activation period of a login request: who still has to set a password, the reminder at 48 hours, a
new round of links, and closing the request when nobody is left to wait for."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .activation import ACTIVATION_PERIOD, REMINDER_AFTER, token_issue, tokens_revoke
from .models import AccessEntry, AccessRequest
from .provisioning import links_window
from .record import Record


def expires_at(*, request: AccessRequest) -> datetime:
    """When the current round of links expires."""
    assert request.links_expire_at is not None  # noqa: S101 - set when the links went out
    return request.links_expire_at


def remind_at(*, request: AccessRequest) -> datetime:
    """When to remind: 48 hours into the round; once reminded, only after the round has ended (never)."""
    end = expires_at(request=request)
    if request.reminded_at is not None:
        return end + timedelta(days=1)
    return end - ACTIVATION_PERIOD + REMINDER_AFTER


@transaction.atomic
def request_remind(*, request: AccessRequest, record: Record) -> int:
    """Mail a fresh link (ending with the round) to everyone still to activate; the older links stop working."""
    assert request.links_expire_at is not None  # noqa: S101 - set when the links went out
    reminded = 0
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        token_issue(entry=entry, expires_at=request.links_expire_at, reminder=True)
        reminded += 1
    request.reminded_at = timezone.now()
    request.save(update_fields=["reminded_at"])
    record("note", {"event": "activation_reminded", "people": reminded})
    return reminded


@transaction.atomic
def request_resend(*, request: AccessRequest, record: Record) -> int:
    """A new 72-hour round with fresh links for everyone still to activate."""
    until = links_window(request, timezone.now())
    request.save(update_fields=["links_expire_at", "reminded_at"])
    people = 0
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        token_issue(entry=entry, expires_at=until)
        people += 1
    record("note", {"event": "activation_links_resent", "people": people, "until": until})
    return people


@transaction.atomic
def request_close(*, request: AccessRequest, record: Record) -> str:
    """Stop waiting: links stop working and accounts this request created but nobody activated are switched off."""
    closed = []
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        tokens_revoke(entry=entry)
        entry.status = AccessEntry.Status.CLOSED
        entry.save(update_fields=["status"])
        account = entry.account
        if account is not None and entry.account_created and not account.has_usable_password():
            account.is_active = False
            account.save(update_fields=["is_active"])
        closed.append(account.username if account else entry.full_name)
    request.outcome = AccessRequest.Outcome.CLOSED
    request.save(update_fields=["outcome"])
    record("note", {"event": "request_closed", "not_activated": closed})
    return request.outcome


@transaction.atomic
def request_finish(*, request: AccessRequest) -> str:
    active = request.entries.filter(status=AccessEntry.Status.ACTIVE).exists()
    request.outcome = AccessRequest.Outcome.COMPLETED if active else AccessRequest.Outcome.REFUSED
    request.save(update_fields=["outcome"])
    return request.outcome
