"""Accounts for a whole student group: a background job (Celery) creating one account per student, each in
its own transaction, with the progress the page follows."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.roles import Role
from backend.workflow import services as workflow
from backend.workflow.history import history_record

from . import selectors
from .activation import token_issue
from .models import AccessEntry, AccessRequest, BatchProgress
from .provisioning import account_new, links_window
from .record import Record

MESSAGE_ACCOUNTS_CREATED = "accounts_created"


@transaction.atomic
def batch_start(*, request: AccessRequest, record: Record) -> BatchProgress:
    """Queue the creation of the group's accounts (a Celery job); the page follows its progress."""
    from .tasks import create_group_accounts

    links_window(request, timezone.now())
    request.save(update_fields=["links_expire_at", "reminded_at"])
    total = request.entries.filter(status=AccessEntry.Status.REQUESTED).count()
    progress, _created = BatchProgress.objects.update_or_create(
        request=request, defaults={"total": total, "state": BatchProgress.State.QUEUED}
    )
    record("note", {"event": "group_accounts_queued", "students": total})
    request_id = request.pk
    transaction.on_commit(lambda: create_group_accounts.delay(request_id))
    return progress


def _student_create(entry: AccessEntry, request: AccessRequest) -> bool:
    """One student's account, linked to their record; False (with the reason noted) when it is not created."""
    from backend.academics.models import Student

    assert request.school is not None  # noqa: S101 - a group's request names its school
    assert request.links_expire_at is not None  # noqa: S101 - set when the job was queued
    student = Student.objects.select_for_update(of=("self",)).select_related("user").get(pk=entry.student_id or 0)
    previous = student.user
    if previous is not None and not previous.is_active and not previous.has_usable_password():
        # An account a closed request created and nobody activated: the student gets a fresh link for it.
        entry.account = previous
        entry.status = AccessEntry.Status.INVITED
        entry.note = _("The account created earlier was never activated; a fresh link was sent.")
        entry.save(update_fields=["account", "status", "note"])
        token_issue(entry=entry, expires_at=request.links_expire_at)
        return True
    reason = ""
    account, matched_by = selectors.account_matching(email=student.email, iin=student.iin)
    if student.user_id is not None:
        reason = _("The student already has an account.")
    elif not student.email:
        reason = _("The student's record has no e-mail address to send the link to.")
    elif account is not None:
        entry.match = account
        entry.matched_by = ",".join(matched_by)
        reason = _("An account with this e-mail or IIN exists (%(username)s); the IT department can link it.") % {
            "username": account.username
        }
    if reason:
        entry.status = AccessEntry.Status.SKIPPED
        entry.note = reason
        entry.save(update_fields=["status", "note", "match", "matched_by"])
        return False
    entry.email = student.email
    try:
        with transaction.atomic():
            user = account_new(entry, role=Role.STUDENT, unit=request.school, starts=None)
    except DjangoValidationError as error:
        entry.status = AccessEntry.Status.SKIPPED
        entry.note = "; ".join(error.messages)[:500]
        entry.save(update_fields=["status", "note", "email"])
        return False
    student.user = user
    student.save(update_fields=["user", "updated_at"])
    entry.account = user
    entry.account_created = True
    entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "account_created", "status", "email"])
    token_issue(entry=entry, expires_at=request.links_expire_at)
    return True


def group_accounts_create(*, request_id: int) -> int:
    """The background job: one account per student, each in its own transaction, counting as it goes.

    Idempotent: people already handled are skipped, so a retry picks up where a failed run stopped.
    """
    request = AccessRequest.objects.select_related("instance", "school").get(pk=request_id)
    progress = BatchProgress.objects.get(request=request)
    BatchProgress.objects.filter(pk=progress.pk).update(
        state=BatchProgress.State.RUNNING, started_at=progress.started_at or timezone.now(), error=""
    )
    created = 0
    try:
        pending = request.entries.filter(status=AccessEntry.Status.REQUESTED).order_by("order", "pk")
        for entry_id in list(pending.values_list("pk", flat=True)):
            with transaction.atomic():
                entry = AccessEntry.objects.select_for_update().get(pk=entry_id)
                if entry.status != AccessEntry.Status.REQUESTED:
                    continue
                made = _student_create(entry, request)
                counter = "done" if made else "skipped"
                BatchProgress.objects.filter(pk=progress.pk).update(**{counter: F(counter) + 1})
                created += made
    except Exception as error:
        BatchProgress.objects.filter(pk=progress.pk).update(state=BatchProgress.State.FAILED, error=str(error)[:2000])
        raise
    with transaction.atomic():
        now = timezone.now()
        BatchProgress.objects.filter(pk=progress.pk).update(state=BatchProgress.State.FINISHED, finished_at=now)
        AccessRequest.objects.filter(pk=request.pk, provisioned_at__isnull=True).update(provisioned_at=now)
        entries = request.entries.all()
        history_record(
            instance=request.instance,
            kind="note",
            payload={
                "event": "group_accounts_created",
                "accounts": list(
                    entries.filter(account_created=True).values_list("account__username", flat=True).order_by("order")
                ),
                "skipped": [
                    {"person": e.full_name, "reason": e.note}
                    for e in entries.filter(status=AccessEntry.Status.SKIPPED).order_by("order")
                ],
            },
        )
        workflow.instance_message(
            instance_id=request.instance_id, name=MESSAGE_ACCOUNTS_CREATED, payload={"created": created}
        )
    return created
