"""Deactivating a teacher's account at once: sessions and API tokens revoked, roles ended, open tasks to the
head of department."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import RoleAssignment, User
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders
from backend.accounts.services import user_deactivate
from backend.workflow import services as workflow

from .models import AccessEntry, AccessRequest
from .record import Record


def _department_head(request: AccessRequest, user: User) -> User:
    assert request.department is not None  # noqa: S101 - a deactivation names its department
    holders = role_holders(role=Role.DEPARTMENT_HEAD, org_unit=request.department, exclude={user.pk})
    return holders[0].user if holders else request.requested_by


@transaction.atomic
def account_deactivate(*, request: AccessRequest, actor: User | None, record: Record) -> str:
    """Switch the teacher's account off at once: sessions and API tokens revoked, roles ended, open tasks to
    the head of department."""
    entry = request.entries.select_related("account").get()
    user = User.objects.select_for_update().get(pk=entry.account_id or 0)
    tokens, sessions = user_deactivate(user=user)
    today = timezone.localdate()
    ended = 0
    for assignment in RoleAssignment.objects.filter(user=user).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today)):
        assignment.valid_to = max(today, assignment.valid_from)
        assignment.save(update_fields=["valid_to", "updated_at"])
        ended += 1
    head = _department_head(request, user)
    moved = workflow.tasks_hand_over(
        from_user=user, to_user=head, actor=actor, reason="account_deactivated", skip_instance=request.instance_id
    )
    entry.status = AccessEntry.Status.DEACTIVATED
    entry.note = request.reason[:500]
    entry.save(update_fields=["status", "note"])
    request.outcome = AccessRequest.Outcome.DEACTIVATED
    request.save(update_fields=["outcome"])
    record(
        "note",
        {
            "event": "account_deactivated",
            "username": user.username,
            "api_tokens_revoked": tokens,
            "sessions_ended": sessions,
            "roles_ended": ended,
            "tasks_moved": moved,
            "tasks_to": head.username,
        },
    )
    return request.outcome
