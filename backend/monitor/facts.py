"""Keeping the monitor's rollups (`CaseFact`, `TaskFact`) in step with the workflow, a batch at a time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from backend.accounts.models import OrgUnit
from backend.core.workdays import add_days
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance

from .models import CaseFact, ProcessTarget, TaskFact
from .summaries import local_day, summaries_rebuild
from .worktime import DAY, Interval, WorkCalendar

FINISHED = (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED)
# Where a case's unit is written in its data (unit codes), the most specific first.
UNIT_KEYS = ("department", "school", "signer_unit", "student_school", "teacher_school")
# The SOP deadlines of DOMAIN.md, used until a row in the admin says otherwise: a transcript in 3 working
# days; the reopening and login processes set deadlines per step (a case is on time when every step was).
DEFAULT_TARGETS: dict[str, tuple[int | None, bool]] = {"transcript_issuance": (3, True)}


def process_target(process_key: str) -> tuple[int | None, bool]:
    """(days, working) of the process's end-to-end SOP deadline; days is None when it has none."""
    row = ProcessTarget.objects.filter(process_key=process_key).first()
    if row is not None:
        return row.days, row.working_days
    return DEFAULT_TARGETS.get(process_key, (None, True))


def _calendar(moments: list[datetime]) -> WorkCalendar:
    now = timezone.now()
    present = [m for m in moments if m is not None] or [now]
    # Deadlines of running cases lie ahead: the calendar reaches a season past today.
    return WorkCalendar(
        timezone.localdate(min(present)), timezone.localdate(max([*present, now])) + timedelta(days=120)
    )


def _suspensions(instance_ids: list[int]) -> dict[int, list[Interval]]:
    """Each case's suspended intervals, from its history (an open one runs until now)."""
    gaps: dict[int, list[Interval]] = defaultdict(list)
    began: dict[int, datetime] = {}
    events = (
        HistoryEvent.objects.filter(instance_id__in=instance_ids, kind__in=["suspended", "resumed", "cancelled"])
        .order_by("instance_id", "seq")
        .values_list("instance_id", "kind", "at")
    )
    for instance_id, kind, at in events:
        if kind == "suspended":
            began.setdefault(instance_id, at)
        elif instance_id in began:
            gaps[instance_id].append((began.pop(instance_id), at))
    now = timezone.now()
    for instance_id, start in began.items():
        gaps[instance_id].append((start, now))
    return gaps


class _Units:
    def __init__(self) -> None:
        self.by_code = dict(OrgUnit.objects.values_list("code", "pk"))
        root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").values_list("pk", flat=True).first()
        self.root = root

    def of(self, data: dict[str, Any]) -> int | None:
        for key in UNIT_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value in self.by_code:
                return self.by_code[value]
        return self.root


def _case_numbers(
    instance: ProcessInstance, calendar: WorkCalendar, gaps: list[Interval], late_steps: bool
) -> tuple[float | None, bool | None]:
    if instance.status != ProcessInstance.Status.COMPLETED or instance.completed_at is None:
        return None, None
    e2e = calendar.seconds_excluding(instance.started_at, instance.completed_at, gaps)
    days, working = process_target(instance.process_key)
    if days is None:
        return e2e, not late_steps
    if working:
        return e2e, e2e <= days * DAY
    elapsed = (instance.completed_at - instance.started_at).total_seconds()
    elapsed -= sum(
        max(0.0, (min(instance.completed_at, b) - max(instance.started_at, a)).total_seconds()) for a, b in gaps
    )
    return e2e, elapsed <= days * DAY


def _due_at(instance: ProcessInstance, calendar: WorkCalendar, gaps: list[Interval]) -> datetime | None:
    """When a running case passes its SOP deadline: the clock stops while it is suspended (an open suspension
    counts until now, so a suspended case's deadline moves on at every refresh)."""
    if instance.status in FINISHED:
        return None
    days, working = process_target(instance.process_key)
    if days is None:
        return None
    now = timezone.now()
    if working:
        suspended = sum(calendar.seconds(max(a, instance.started_at), min(b, now)) for a, b in gaps)
        return calendar.add_seconds(instance.started_at, days * DAY + suspended)
    elapsed = sum(max(0.0, (min(b, now) - max(a, instance.started_at)).total_seconds()) for a, b in gaps)
    return instance.started_at + timedelta(days=days, seconds=elapsed)


def _refresh_tasks(batch: int) -> tuple[int, set[date]]:
    missing = HumanTask.objects.filter(status__in=[HumanTask.Status.COMPLETED, HumanTask.Status.CANCELLED]).exclude(
        Exists(TaskFact.objects.filter(task_id=OuterRef("pk")))
    )
    # The ids first, an anti-join of two indexes alone (monitor_finished_task, the facts' primary key); then the
    # batch's rows. Asked for whole rows at once, PostgreSQL read every finished task's row to find none missing.
    ids = list(missing.order_by("pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0, set()
    tasks = list(
        HumanTask.objects.filter(pk__in=ids)
        .select_related("instance__definition")
        .only(
            "pk",
            "instance_id",
            "spec_id",
            "role",
            "status",
            "created_at",
            "completed_at",
            "due_at",
            "completed_by_id",
            "process_key",
            "instance__data",
            "instance__definition__version",
        )
        .order_by("pk")
    )
    instance_ids = sorted({t.instance_id for t in tasks})
    gaps = _suspensions(instance_ids)
    calendar = _calendar([t.created_at for t in tasks])
    units = _Units()
    claims: dict[int, datetime] = {}
    task_ids = {t.pk for t in tasks}
    events = HistoryEvent.objects.filter(instance_id__in=instance_ids, kind__in=["claimed", "task_created"]).order_by(
        "instance_id", "seq"
    )
    for kind, payload, at in events.values_list("kind", "payload", "at"):
        task_id = payload.get("task")
        if task_id not in task_ids:
            continue
        if kind == "claimed" or payload.get("assignee"):
            claims[task_id] = at  # the last claim before completion counts
    earlier: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pk, instance_id, spec_id in (
        HumanTask.objects.filter(instance_id__in=instance_ids)
        .order_by("pk")
        .values_list("pk", "instance_id", "spec_id")
    ):
        earlier[(instance_id, spec_id)].append(pk)
    facts = []
    for task in tasks:
        instance_gaps = gaps.get(task.instance_id, [])
        completed = task.status == HumanTask.Status.COMPLETED and task.completed_at is not None
        wait = claim = due = None
        on_time = None
        if completed:
            assert task.completed_at is not None  # noqa: S101 - checked just above
            wait = calendar.seconds_excluding(task.created_at, task.completed_at, instance_gaps)
            claimed_at = min(max(claims.get(task.pk, task.completed_at), task.created_at), task.completed_at)
            claim = calendar.seconds_excluding(claimed_at, task.completed_at, instance_gaps)
            if task.due_at is not None:
                due = calendar.seconds(task.created_at, task.due_at)
                on_time = wait <= due
        facts.append(
            TaskFact(
                task_id=task.pk,
                instance_id=task.instance_id,
                process_key=task.process_key,
                version=task.instance.definition.version,
                spec_id=task.spec_id,
                role=task.role,
                unit_id=units.of(task.instance.data),
                status=task.status,
                created_at=task.created_at,
                completed_at=task.completed_at if completed else None,
                completed_by_id=task.completed_by_id,
                wait_seconds=wait,
                claim_seconds=claim,
                due_seconds=due,
                on_time=on_time,
                loop=earlier[(task.instance_id, task.spec_id)].index(task.pk),
            )
        )
    TaskFact.objects.bulk_create(facts, ignore_conflicts=True)
    return len(facts), {local_day(f.completed_at) for f in facts if f.completed_at}


def _refresh_cases(batch: int, *, suspended: bool = False) -> tuple[int, set[date]]:
    """New cases get a fact; cases whose status changed get theirs worked out again (`suspended`: the
    suspended cases instead, whose deadline moves while they wait)."""
    new = ProcessInstance.objects.exclude(Exists(CaseFact.objects.filter(instance_id=OuterRef("pk"))))
    # A finished case never changes again: only the facts of cases still running are compared (a tenth or so).
    changed = ProcessInstance.objects.filter(
        Exists(
            CaseFact.objects.filter(instance_id=OuterRef("pk"))
            .exclude(status__in=FINISHED)
            .exclude(status=OuterRef("status"))
        )
    )
    fresh = list(new.select_related("definition").only(*_INSTANCE_FIELDS).order_by("pk")[:batch])
    instances = [*fresh, *changed.select_related("definition").only(*_INSTANCE_FIELDS).order_by("pk")[:batch]]
    if suspended:
        instances = list(
            ProcessInstance.objects.filter(status=ProcessInstance.Status.SUSPENDED)
            .select_related("definition")
            .only(*_INSTANCE_FIELDS)
        )
    if not instances:
        return 0, set()
    ids = [i.pk for i in instances]
    gaps = _suspensions(ids)
    late = set(
        TaskFact.objects.filter(instance_id__in=ids, on_time=False).values_list("instance_id", flat=True).distinct()
    )
    calendar = _calendar([i.started_at for i in instances])
    units = _Units()
    facts = []
    for instance in instances:
        e2e, within = _case_numbers(instance, calendar, gaps.get(instance.pk, []), instance.pk in late)
        finished = instance.completed_at if instance.status in FINISHED else None
        facts.append(
            CaseFact(
                instance_id=instance.pk,
                process_key=instance.process_key,
                version=instance.definition.version,
                unit_id=units.of(instance.data),
                status=instance.status,
                started_at=instance.started_at,
                finished_at=finished,
                e2e_seconds=e2e,
                within_sop=within,
                due_at=_due_at(instance, calendar, gaps.get(instance.pk, [])),
            )
        )
    CaseFact.objects.bulk_create(
        facts,
        update_conflicts=True,
        unique_fields=["instance"],
        update_fields=["status", "finished_at", "e2e_seconds", "within_sop", "due_at", "unit", "refreshed_at"],
    )
    if suspended:
        return len(facts), set()  # a suspended case's summaries do not change while it waits
    # A case is counted on the day it started once, when it gets its fact; a change of status touches only the
    # day it finished (or was cancelled).
    days = {local_day(i.started_at) for i in fresh} | {local_day(f.finished_at) for f in facts if f.finished_at}
    return len(facts), days


_INSTANCE_FIELDS = (
    "pk",
    "process_key",
    "status",
    "started_at",
    "completed_at",
    "data",
    "definition__version",
)


def _lock() -> None:
    """One refresh at a time: two would each rebuild a day's summaries and leave both copies."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('qujat.monitor.facts_refresh'))")


def facts_refresh(*, batch: int = 2000, rounds: int = 50) -> int:
    """Bring the rollups and their summaries up to date (tasks first: a case's SOP verdict may read its
    steps); returns the number of facts written."""
    written = 0
    size = batch
    for _round in range(rounds):
        with transaction.atomic():
            _lock()
            tasks, task_days = _refresh_tasks(size)
            cases, case_days = _refresh_cases(size)
            summaries_rebuild(task_days | case_days)
        written += tasks + cases
        if tasks + cases == 0:
            break
        # Catching up after an outage, every round rebuilds the summaries of the same days (a batch in id order
        # spans them all): full rounds grow, up to 16 batches, so the days are rebuilt a few times, not dozens.
        if max(tasks, cases) >= size:
            size = min(size * 2, batch * 16)
    with transaction.atomic():
        _lock()
        _refresh_cases(batch, suspended=True)
    return written


def case_deadline(process_key: str, started_at: datetime) -> datetime | None:
    """When a case started at `started_at` must be finished by its SOP, if the process has an end-to-end one."""
    days, working = process_target(process_key)
    if days is None:
        return None
    return add_days(started_at, days, working=working)
