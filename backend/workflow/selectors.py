"""Reads of processes, instances and tasks, scoped to what the asking user may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import active_substitutions, user_has_role
from backend.core.exceptions import NotFound

from .engine import RunningProcess, TrailStep
from .models import (
    HistoryEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Purpose,
    StateSegment,
    TaskCandidate,
)
from .scripting import InstanceContext, Sandbox


def latest_definitions() -> list[ProcessDefinition]:
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.defer("spec", "bpmn_xml").order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    return list(latest.values())


def can_start(definition: ProcessDefinition, user: User) -> bool:
    starters = [r for r in definition.routing.get("process", {}).get("starters", "").split(",") if r]
    return not starters or user.is_superuser or user_has_role(user, *starters)


def sees_everything(user: User) -> bool:
    return user.is_superuser or user_has_role(user, Role.AUDITOR, Role.REGISTRAR_HEAD)


def instances_for(user: User) -> QuerySet[ProcessInstance]:
    """Instances the user started, took part in, or may audit."""
    instances = ProcessInstance.objects.select_related("definition", "started_by").defer(
        "state", "definition__spec", "definition__bpmn_xml"
    )
    if sees_everything(user):
        return instances
    involved = HumanTask.objects.filter(
        Q(candidates__user=user) | Q(completed_by=user) | Q(assignee=user), instance=OuterRef("pk")
    )
    return instances.filter(Q(started_by=user) | Exists(involved))


def people_acting_as(user: User) -> QuerySet[Any]:
    """The user and everyone they substitute today, as a subquery (a UNION, so the planner expects few rows)."""
    absent = active_substitutions().filter(substitute=user).order_by().values("absent_id")
    return User.objects.filter(pk=user.pk).order_by().values("pk").union(absent, all=True)


def offered_task_ids(people: QuerySet[Any] | list[int]) -> QuerySet[Any]:
    """Ids of the open tasks assigned or offered to any of `people`, as a subquery.

    Collected from the candidate and assignee indexes first, so an inbox costs a few index probes per task of
    the person however many open tasks the university has (a filter over all open tasks does not scale).
    """
    offered = TaskCandidate.objects.filter(user_id__in=people, is_open=True).order_by().values("task_id")
    assigned = HumanTask.objects.filter(assignee_id__in=people, status=HumanTask.Status.OPEN).order_by().values("pk")
    return offered.union(assigned, all=True)


def inbox(user: User) -> QuerySet[HumanTask]:
    """Open tasks the user may act on: assigned to them, offered to them, or to someone they substitute."""
    people = people_acting_as(user)
    return (
        HumanTask.objects.filter(status=HumanTask.Status.OPEN, pk__in=offered_task_ids(people))
        .filter(Q(assignee_id__in=people) | Q(assignee__isnull=True))
        .select_related("instance", "requester", "assignee")
    )


def filter_tasks(
    tasks: QuerySet[HumanTask],
    *,
    process: str | None = None,
    instance: int | None = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
) -> QuerySet[HumanTask]:
    if process:
        tasks = tasks.filter(process_key=process)
    if instance is not None:
        tasks = tasks.filter(instance_id=instance)
    if overdue:
        tasks = tasks.filter(due_at__lt=timezone.now())
    if due_before:
        tasks = tasks.filter(due_at__lt=due_before)
    return tasks


def _task_properties(definition: ProcessDefinition) -> dict[str, dict[str, str]]:
    tasks = (definition.routing or {}).get("tasks", {})
    return {spec: info.get("properties", {}) for spec, info in tasks.items()}


def purpose_of(definition: ProcessDefinition, spec_id: str, *, latest_routing: dict[str, Any] | None = None) -> str:
    """The `purpose` property of a user task in the diagram ("" when it has none)."""
    return specs_with_purpose(definition, latest_routing=latest_routing).get(spec_id, "")


def specs_with_purpose(
    definition: ProcessDefinition, *, latest_routing: dict[str, Any] | None = None
) -> dict[str, str]:
    """Task id → purpose in the case's version; a version deployed before its diagram declared purposes
    borrows them from the latest version of the process (whose routing the caller may have read already)."""
    purposes = {spec: p["purpose"] for spec, p in _task_properties(definition).items() if p.get("purpose")}
    if purposes:
        return purposes
    if latest_routing is None:
        latest_routing = definition.latest_routing()
    tasks = latest_routing.get("tasks", {})
    return {
        spec: info["properties"]["purpose"] for spec, info in tasks.items() if info.get("properties", {}).get("purpose")
    }


def completed_with_purpose(instance: ProcessInstance, purpose: Purpose) -> QuerySet[HumanTask]:
    """The case's completed tasks whose step has this purpose, the latest first."""
    specs = [spec for spec, declared in specs_with_purpose(instance.definition).items() if declared == purpose]
    return HumanTask.objects.filter(instance=instance, spec_id__in=specs, status=HumanTask.Status.COMPLETED).order_by(
        "-completed_at", "-pk"
    )


def history_of(instance: ProcessInstance) -> QuerySet[HistoryEvent]:
    return HistoryEvent.objects.filter(instance=instance).select_related("actor").order_by("seq")


def acting_capacity(task: HumanTask, user: User) -> tuple[bool, User | None]:
    """Whether `user` may act on the task, and whom they act for when they are a substitute."""
    if task.assignee_id is not None:
        if task.assignee_id == user.pk:
            return True, None
        substitute_for = _substituted(user, [task.assignee_id])
        return (True, substitute_for) if substitute_for else (False, None)
    candidate = TaskCandidate.objects.filter(task=task, user=user).select_related("acting_for").first()
    if candidate is not None:
        return True, candidate.acting_for
    candidate_ids = list(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True))
    substitute_for = _substituted(user, candidate_ids, role=task.role)
    return (True, substitute_for) if substitute_for else (False, None)


def _substituted(user: User, absent_ids: list[int], role: str = "") -> User | None:
    subs = active_substitutions().filter(substitute=user, absent_id__in=absent_ids)
    if role:
        subs = subs.filter(Q(role="") | Q(role=role))
    sub = subs.select_related("absent").first()
    return sub.absent if sub else None


def can_see_task(task: HumanTask, user: User) -> bool:
    if acting_capacity(task, user)[0]:
        return True
    return can_see_instance(task.instance, user)


def can_see_instance(instance: ProcessInstance, user: User) -> bool:
    return instances_for(user).filter(pk=instance.pk).exists()


def visible_task(task_id: int, user: User) -> HumanTask:
    """The task if the user may see it; a plain "not found" otherwise (no hint that it exists)."""
    task = (
        HumanTask.objects.select_related("instance", "instance__definition")
        .defer("instance__state", "instance__definition__spec", "instance__definition__bpmn_xml")
        .filter(pk=task_id)
        .first()
    )
    if task is None or not can_see_task(task, user):
        raise NotFound(_("There is no such task."))
    return task


def visible_instance(instance_id: int, user: User) -> ProcessInstance:
    instance = instances_for(user).filter(pk=instance_id).first()
    if instance is None:
        raise NotFound(_("There is no such process instance."))
    return instance


def stored_segments(instance: ProcessInstance) -> list[str]:
    """The finished tasks the case's state left in segments, oldest first (read only when there are any)."""
    if not instance.state_segments:
        return []
    return list(StateSegment.objects.filter(instance_id=instance.pk).order_by("pk").values_list("tasks", flat=True))


def instance_trail(instance: ProcessInstance) -> list[TrailStep]:
    """The diagram elements the case reached, read from its saved engine state (nothing runs, nothing is kept)."""
    definition = instance.definition
    process = RunningProcess.load(
        spec_key=f"{definition.pk}:{definition.content_hash}",
        load_bundle=lambda: definition.spec,
        state=instance.state,
        sandbox=Sandbox(InstanceContext(instance.pk, None)),
        segments=stored_segments(instance),
    )
    return process.trail()
