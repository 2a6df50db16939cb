"""What the monitor changes: a reminder by hand, and the daily alert to the head of the Registrar office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import active_assignments
from backend.core.exceptions import Conflict, Forbidden, NotFound
from backend.workflow import signals
from backend.workflow.history import history_record
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance

from .facts import case_deadline
from .models import CaseFact, StepThreshold, TaskFact
from .scope import monitor_scope

ALERT_WINDOW_DAYS = 30


@transaction.atomic
def task_remind(*, task_id: int, user: User) -> HumanTask:
    """Remind the holders of an open task now; recorded in the case's history and e-mailed like the timer's."""
    scope = monitor_scope(user)
    if not scope.may_act:
        raise Forbidden(_("You may look at the monitor but not act from it."))
    task = HumanTask.objects.filter(pk=task_id).only("pk", "instance_id").first()
    unit_id = (
        CaseFact.objects.filter(instance_id=task.instance_id).values_list("unit_id", flat=True).first()
        if task
        else None
    )
    if task is None or not scope.covers(unit_id):
        raise NotFound(_("There is no such task."))
    ProcessInstance.objects.select_for_update().filter(pk=task.instance_id).values_list("pk", flat=True).get()
    task = HumanTask.objects.select_related("instance").get(pk=task_id)
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    history_record(
        instance=task.instance,
        kind="reminder",
        actor=user,
        payload={"task": task.pk, "due_at": task.due_at.isoformat() if task.due_at else None, "by_hand": True},
    )
    transaction.on_commit(partial(signals.task_reminder.send, sender=None, task_id=task.pk))
    return task


@dataclass(frozen=True)
class StepAlert:
    process: str
    step: str
    share: float
    threshold: float
    completed: int


@dataclass(frozen=True)
class CaseAlert:
    instance: ProcessInstance
    deadline: datetime


def alerts_collect(*, now: datetime | None = None) -> tuple[list[StepAlert], list[CaseAlert]]:
    """Steps whose on-time share over the last 30 days is below their threshold, and running cases whose SOP
    deadline falls within the next day."""
    moment = now or timezone.now()
    steps: list[StepAlert] = []
    for threshold in StepThreshold.objects.filter(active=True):
        row = TaskFact.objects.filter(
            process_key=threshold.process_key,
            spec_id=threshold.spec_id,
            status=HumanTask.Status.COMPLETED,
            completed_at__gte=moment - timedelta(days=ALERT_WINDOW_DAYS),
            completed_at__lt=moment,
        ).aggregate(with_due=Count("pk", filter=Q(on_time__isnull=False)), on_time=Count("pk", filter=Q(on_time=True)))
        if not row["with_due"]:
            continue
        share = row["on_time"] / row["with_due"]
        if share < float(threshold.min_on_time_share):
            definition = ProcessDefinition.objects.filter(key=threshold.process_key).order_by("-version").first()
            titles = ((definition.routing or {}).get("tasks", {}).get(threshold.spec_id, {}) if definition else {}).get(
                "title", {}
            )
            steps.append(
                StepAlert(
                    process=definition.title_in() if definition else threshold.process_key,
                    step=titles.get(translation.get_language() or "ru") or titles.get("ru") or threshold.spec_id,
                    share=round(share, 3),
                    threshold=float(threshold.min_on_time_share),
                    completed=row["with_due"],
                )
            )
    cases: list[CaseAlert] = []
    running = CaseFact.objects.filter(status=ProcessInstance.Status.RUNNING).select_related("instance")
    for fact in running.order_by("started_at").iterator():
        deadline = case_deadline(fact.process_key, fact.started_at)
        if deadline is None:
            continue
        if moment <= deadline <= moment + timedelta(days=1):
            cases.append(CaseAlert(instance=fact.instance, deadline=deadline))
    return steps, cases


def alerts_send(*, now: datetime | None = None) -> int:
    """The daily e-mail to each head of the Registrar office, in their language; only when there is news."""
    heads = active_assignments().filter(role=Role.REGISTRAR_HEAD).values("user_id")
    sent = 0
    for user in User.objects.filter(pk__in=heads, is_active=True).exclude(email="").order_by("pk"):
        with translation.override(user.language):
            steps, cases = alerts_collect(now=now)
            if not steps and not cases:
                continue
            context = {"user": user, "steps": steps, "cases": cases, "site": settings.QUJAT_SITE_URL}
            body = render_to_string("monitor/alert_email.txt", context)
            send_mail(_("Process monitor: steps and cases that need you"), body, None, [user.email])
            sent += 1
    return sent
