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
from backend.workflow.history import history_record
from backend.workflow.models import HumanTask, ProcessInstance, TaskCandidate

from .models import AccessEntry, AccessRequest
from .record import Record


def tasks_hand_over(*, user: User, to: User, actor: User | None, skip_instance: int | None = None) -> int:
    """Open tasks only `user` could do go to `to`; shared ones just lose `user`. History on each case.

    Returns how many tasks changed hands.
    """
    task_ids = set(
        HumanTask.objects.filter(status=HumanTask.Status.OPEN, assignee=user).values_list("pk", flat=True)
    ) | set(
        TaskCandidate.objects.filter(user=user, is_open=True, task__status=HumanTask.Status.OPEN).values_list(
            "task_id", flat=True
        )
    )
    tasks = HumanTask.objects.filter(pk__in=task_ids).exclude(instance_id=skip_instance).order_by("instance_id", "pk")
    instance_ids = sorted(set(tasks.values_list("instance_id", flat=True)))
    # Each case's row lock, in a fixed order (no deadlock with another hand-over), before its tasks change.
    list(ProcessInstance.objects.select_for_update().filter(pk__in=instance_ids).order_by("pk").values_list("pk"))
    moved = 0
    for task in tasks.select_related("instance"):
        others = TaskCandidate.objects.filter(task=task).exclude(user=user)
        TaskCandidate.objects.filter(task=task, user=user).delete()
        if task.assignee_id != user.pk and others.exists():
            history_record(
                instance=task.instance,
                kind="candidates_changed",
                actor=actor,
                payload={
                    "task": task.pk,
                    "candidates": [
                        {"user": c.user.username, "acting_for": None} for c in others.select_related("user")
                    ],
                    "reason": "account_deactivated",
                    "removed": user.username,
                },
            )
            continue
        task.assignee = to
        task.save(update_fields=["assignee"])
        TaskCandidate.objects.get_or_create(task=task, user=to)
        history_record(
            instance=task.instance,
            kind="delegated",
            actor=actor,
            payload={"task": task.pk, "to": to.username, "from": user.username, "reason": "account_deactivated"},
        )
        moved += 1
    return moved


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
    moved = tasks_hand_over(user=user, to=head, actor=actor, skip_instance=request.instance_id)
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
