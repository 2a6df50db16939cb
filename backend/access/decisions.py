"""The IT department's decisions on a login request: the head of IT refusing it, and the people whose e-mail
or IIN already has an account, flagged for IT to decide (reuse or refuse)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import selectors
from .models import AccessEntry, AccessRequest
from .record import Record

# --- the head of IT -------------------------------------------------------------------------------------------------


@transaction.atomic
def request_refuse(*, request: AccessRequest, reason: str, record: Record) -> str:
    request.refusal_reason = reason.strip()
    request.outcome = AccessRequest.Outcome.REFUSED
    request.save(update_fields=["refusal_reason", "outcome"])
    request.entries.filter(
        status__in=[AccessEntry.Status.REQUESTED, AccessEntry.Status.MATCHED, AccessEntry.Status.INVITED]
    ).update(status=AccessEntry.Status.REFUSED)
    record("note", {"event": "request_refused", "reason": request.refusal_reason})
    return request.outcome


# --- accounts for teachers ------------------------------------------------------------------------------------------


@transaction.atomic
def request_match(*, request: AccessRequest, record: Record) -> int:
    """Flag every person whose e-mail or IIN already has an account, for IT to decide; returns how many."""
    if request.approved_at is None:
        request.approved_at = timezone.now()
        request.save(update_fields=["approved_at"])
    found = 0
    for entry in request.entries.filter(status__in=[AccessEntry.Status.REQUESTED, AccessEntry.Status.MATCHED]):
        account, matched_by = selectors.account_matching(email=entry.email, iin=entry.iin)
        if account is None:
            continue
        entry.status = AccessEntry.Status.MATCHED
        entry.match = account
        entry.matched_by = ",".join(matched_by)
        entry.save(update_fields=["status", "match", "matched_by"])
        record(
            "note",
            {
                "event": "existing_account_found",
                "person": entry.full_name,
                "account": account.username,
                "account_name": account.full_name,
                "active": account.is_active,
                "matched_by": matched_by,
            },
        )
        found += 1
    return found
