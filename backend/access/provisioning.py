"""Accounts for new teachers: created (a username transliterated from the name, the teacher role for the
department, the journals handed over) or reused as IT decided, each holder mailed a one-time activation link."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import OrgUnit, RoleAssignment, User
from backend.accounts.roles import Role
from backend.accounts.services import user_create

from .activation import ACTIVATION_PERIOD, token_issue
from .emails import access_added_mail_send
from .models import AccessEntry, AccessRequest
from .record import Record
from .selectors import awaiting
from .usernames import unique_username


def links_window(request: AccessRequest, now: datetime) -> datetime:
    """Start a new round of links: they expire after the activation period; returns when."""
    request.links_expire_at = now + ACTIVATION_PERIOD
    request.reminded_at = None
    return request.links_expire_at


def _role_grant(*, user: User, role: str, unit: OrgUnit, starts: date | None) -> bool:
    """Give the role for the unit unless the user holds it already; True when it was given."""
    today = timezone.localdate()
    held = RoleAssignment.objects.filter(user=user, role=role, org_unit=unit).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )
    if held.exists():
        return False
    RoleAssignment.objects.create(user=user, role=role, org_unit=unit, valid_from=starts or today)
    return True


def _journals_hand_over(entry: AccessEntry, user: User, record: Record) -> None:
    for journal in entry.journals.select_for_update(of=("self",)).select_related("teacher", "discipline", "group"):
        previous = journal.teacher
        if previous.pk == user.pk:
            continue
        journal.teacher = user
        journal.save(update_fields=["teacher", "updated_at"])
        record(
            "note",
            {
                "event": "journal_handed_over",
                "journal": journal.pk,
                "title": f"{journal.discipline.code} {journal.group.name} {journal.lesson_type}",
                "from": previous.username,
                "to": user.username,
            },
        )


def account_new(entry: AccessEntry, *, role: str, unit: OrgUnit, starts: date | None) -> User:
    username = unique_username(
        first_name=entry.first_name,
        last_name=entry.last_name,
        taken=lambda name: User.objects.filter(username__iexact=name).exists(),
    )
    user = user_create(
        username=username,
        last_name=entry.last_name,
        first_name=entry.first_name,
        patronymic=entry.patronymic,
        email=entry.email,
        iin=entry.iin or None,
        position=entry.position,
        language=entry.language if entry.language in User.Language.values else User.Language.RUSSIAN,
    )
    _role_grant(user=user, role=role, unit=unit, starts=starts)
    return user


def _teacher_create(entry: AccessEntry, request: AccessRequest, expires_at: datetime, record: Record) -> None:
    assert request.department is not None  # noqa: S101 - a teachers' request names its department
    try:
        with transaction.atomic():
            user = account_new(entry, role=Role.TEACHER, unit=request.department, starts=entry.start_date)
    except DjangoValidationError as error:
        # An account with this e-mail or IIN appeared after the check (or the data is refused): never silently.
        entry.status = AccessEntry.Status.REFUSED
        entry.note = _("The account could not be created: %(error)s") % {"error": "; ".join(error.messages)}
        entry.save(update_fields=["status", "note"])
        record("note", {"event": "account_not_created", "person": entry.full_name, "reason": error.messages})
        return
    entry.account = user
    entry.account_created = True
    entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "account_created", "status"])
    _journals_hand_over(entry, user, record)
    token_issue(entry=entry, expires_at=expires_at)
    record("note", {"event": "account_created", "person": entry.full_name, "username": user.username})


def _teacher_reuse(entry: AccessEntry, request: AccessRequest, expires_at: datetime, record: Record) -> None:
    assert request.department is not None  # noqa: S101 - a teachers' request names its department
    assert entry.match is not None  # noqa: S101 - only matched entries are reused
    account = entry.match
    granted = _role_grant(user=account, role=Role.TEACHER, unit=request.department, starts=entry.start_date)
    entry.account = account
    _journals_hand_over(entry, account, record)
    if account.is_active and account.has_usable_password():
        entry.status = AccessEntry.Status.ACTIVE
        entry.activated_at = timezone.now()
        transaction.on_commit(partial(access_added_mail_send, entry_id=entry.pk))
    else:
        # A switched-off account, or one never activated: its holder sets a password through a fresh link.
        entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "status", "activated_at"])
    if entry.status == AccessEntry.Status.INVITED:
        token_issue(entry=entry, expires_at=expires_at)
    record(
        "note",
        {"event": "account_reused", "person": entry.full_name, "username": account.username, "role_added": granted},
    )


@transaction.atomic
def request_provision(*, request: AccessRequest, duplicates: dict[str, Any], record: Record) -> int:
    """Create (or reuse, as IT decided) the accounts and mail the links; returns how many must still activate."""
    now = timezone.now()
    until = links_window(request, now)
    request.provisioned_at = now
    request.save(update_fields=["provisioned_at", "links_expire_at", "reminded_at"])
    decision = duplicates.get("decision", "")
    for entry in request.entries.select_for_update(of=("self",)).select_related("match").order_by("order", "pk"):
        if entry.status == AccessEntry.Status.MATCHED:
            if decision == "reuse":
                _teacher_reuse(entry, request, until, record)
                continue
            entry.status = AccessEntry.Status.REFUSED
            entry.note = duplicates.get("comment") or _("An account with this e-mail or IIN already exists.")
            entry.save(update_fields=["status", "note"])
            record(
                "note",
                {
                    "event": "existing_account_refused",
                    "person": entry.full_name,
                    "account": entry.match.username if entry.match else "",
                    "comment": duplicates.get("comment", ""),
                },
            )
        elif entry.status == AccessEntry.Status.REQUESTED:
            _teacher_create(entry, request, until, record)
    return awaiting(request=request)
