"""The monitor's figures, computed in the database over the rollups and the open tasks.

Every figure is scoped by `MonitorScope` (a dean's school, a head's department) and `Filters`.
Durations are working seconds (see worktime.py); pages show them as working hours and days.

What serves which figure (the whole university reads the summaries' all-units rows, a unit's scope its
units' rows; a period reads month rows for its whole months and day rows for its edges, summaries.period_q;
histograms are added up in the database, summaries.histograms_merged):

- cards, started / finished / cancelled / p50-p95 / within SOP: CaseSummary (index casesummary_scope_span_day);
  running now: CaseFact by casefact_process_status_due (index-only); overdue now: the same index, or a late
  step from the partial index monitor_open_task_late (process_key, due_at, instance_id) WHERE open.
- heatmap, completed / percentiles / on time / repeats / due: StepSummary (stepsummary_process_scope_day);
  open and overdue now: partial index monitor_open_task_step (process_key, spec_id, due_at) WHERE open.
- weekly trend: CaseSummary day rows, summed per week (TruncWeek) in the database.
- overdue list: task_status_due (status, due_at), keyset by (due_at, id); its count stops at COUNT_CAP + 1.
- workload per person: open and overdue from the partial index monitor_open_task_holder (assignee_id, due_at,
  id, instance_id) WHERE open, the unclaimed ones joined to their open candidates (candidate_open_by_user);
  medians from PersonSummary. Per unit: open tasks joined to their case facts; medians from StepSummary's
  units' rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, DateField, F, Func, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import OrgUnit, User
from backend.accounts.selectors import active_substitutions, descendants
from backend.core.exceptions import Forbidden, ValidationFailed
from backend.core.params import query_choice, query_date, query_int, query_text
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, Timer
from backend.workflow.selectors import latest_definitions

from . import sketch
from .facts import process_target
from .models import CaseFact, CaseSummary, PersonSummary, Span, StepSummary
from .scope import MonitorScope
from .summaries import histograms_merged, period_q
from .worktime import DAY

RUNNING = (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED, ProcessInstance.Status.ERROR)
MODES = ("wait", "claim")
DEFAULT_DAYS = 90
COUNT_CAP = 1000  # long lists say "more than 1,000" rather than count every open task


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    unit_ids: frozenset[int] | None = None  # None: everything the scope allows
    unit_id: int | None = None
    version: int | None = None
    role: str = ""
    mode: str = "wait"

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links and exports)."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat(), "mode": self.mode}
        if self.unit_id:
            params["unit"] = str(self.unit_id)
        if self.version:
            params["version"] = str(self.version)
        if self.role:
            params["role"] = self.role
        return params


def filters_from(params: Mapping[str, Any], scope: MonitorScope) -> Filters:
    """Filters from query parameters; a bad one is a 400 naming it, a unit outside the scope a 403."""
    today = timezone.localdate()
    end = query_date(params, "to") or today
    start = query_date(params, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"from": [_("The period starts after it ends.")]}
        )
    if (end - start).days > 3 * 366:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"from": [_("Choose a period of at most three years.")]}
        )
    unit_id = query_int(params, "unit")
    unit_ids = scope.unit_ids
    if unit_id is not None:
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        if unit is None:
            raise ValidationFailed(
                _("Please correct the marked fields."), fields={"unit": [_("Choose one of the offered values.")]}
            )
        if not scope.covers(unit_id):
            raise Forbidden(_("This unit is outside what you may see."))
        below = frozenset(descendants([unit]))
        unit_ids = below if unit_ids is None else below & unit_ids
    role = query_text(params, "role", max_length=40)
    return Filters(
        start=start,
        end=end,
        unit_ids=unit_ids,
        unit_id=unit_id,
        version=query_int(params, "version"),
        role=role,
        mode=query_choice(params, "mode", MODES, "wait"),
    )


def units_for(scope: MonitorScope) -> list[OrgUnit]:
    """The units the filter offers."""
    units = OrgUnit.objects.exclude(kind=OrgUnit.Kind.OFFICE).order_by("kind", "code")
    if scope.unit_ids is not None:
        units = units.filter(pk__in=scope.unit_ids)
    return list(units)


def _scoped(queryset: QuerySet[Any], unit_ids: frozenset[int] | None, path: str = "unit_id") -> QuerySet[Any]:
    return queryset if unit_ids is None else queryset.filter(**{f"{path}__in": unit_ids})


def cases_in_scope(filters: Filters) -> QuerySet[CaseFact]:
    return _scoped(CaseFact.objects.all(), filters.unit_ids)


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 2)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _share(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 3)


# --- process cards -----------------------------------------------------------------------------------


def _summary_scope(rows: QuerySet[Any], filters: Filters, *, per_unit: bool = False) -> QuerySet[Any]:
    """The whole university reads the all-units rows (one per key, not one per key and unit); a unit's scope,
    or a figure `per_unit`, its units' rows."""
    if filters.unit_ids is None and not per_unit:
        return rows.filter(all_units=True)
    return _scoped(rows.filter(all_units=False), filters.unit_ids)


def _summaries(model: Any, filters: Filters, *, per_unit: bool = False, **where: Any) -> QuerySet[Any]:
    """The summary rows of the period (whole months and edge days), in scope and filtered."""
    rows = _summary_scope(
        model.objects.filter(period_q(filters.start, filters.end), **where), filters, per_unit=per_unit
    )
    return rows.filter(version=filters.version) if filters.version else rows


def _percentile_days(hist: dict[str, int]) -> dict[str, float | None]:
    p50, p90, p95 = sketch.percentiles(hist, (0.5, 0.9, 0.95))
    return {"p50_days": _days(p50), "p90_days": _days(p90), "p95_days": _days(p95)}


def process_cards(filters: Filters, *, process_key: str = "") -> list[dict[str, Any]]:
    """One card per deployed process: cases started, finished, cancelled, running and overdue; end-to-end
    p50/p90/p95 (within sketch.RELATIVE_ERROR) and the share finished within the SOP deadline (cases finished
    in the period), from the daily summaries; running and overdue are counted live. `process_key`: its card only."""
    only: dict[str, Any] = {"process_key": process_key} if process_key else {}
    # CaseSummary: month rows for the whole months of the period, day rows for its edges (summaries.period_q).
    summaries = _summaries(CaseSummary, filters, **only)
    totals: dict[str, dict[str, Any]] = {
        row["process_key"]: row
        for row in summaries.values("process_key")
        .annotate(
            n_started=Sum("started"),
            n_finished=Sum("finished"),
            n_cancelled=Sum("cancelled"),
            n_within=Sum("within_sop"),
        )
        .order_by()
    }
    e2e = histograms_merged(summaries, ("process_key",), "e2e")
    definitions = [d for d in latest_definitions() if not process_key or d.key == process_key]
    keys = [d.key for d in definitions]
    # Running now, from the (process_key, status, due_at, instance) index of case facts: naming the processes
    # lets PostgreSQL read only the running entries of each (an index-only scan) instead of every case fact.
    live = cases_in_scope(filters).filter(process_key__in=keys, status__in=RUNNING)
    if filters.version:
        live = live.filter(version=filters.version)
    # Overdue in the same pass over those index entries (`overdue_cases` says which).
    now_counts: dict[str, dict[str, int]] = {}
    late: dict[str, int] = {}
    rows = live.values_list("process_key", "status").annotate(n=Count("pk"), late=Count("pk", filter=_late(keys)))
    for key, status, n, n_late in rows.order_by():
        now_counts.setdefault(key, {})[status] = n
        late[key] = late.get(key, 0) + n_late
    cards = []
    for definition in definitions:
        row: dict[str, Any] = totals.get(definition.key, {})
        finished = row.get("n_finished", 0)
        statuses = now_counts.get(definition.key, {})
        running = sum(statuses.values())
        days, working = process_target(definition.key)
        cards.append(
            {
                "key": definition.key,
                "title": definition.title_in(),
                "started": row.get("n_started", 0),
                "finished": finished,
                "cancelled": row.get("n_cancelled", 0),
                "running": running,
                "suspended": statuses.get(ProcessInstance.Status.SUSPENDED, 0),
                "in_error": statuses.get(ProcessInstance.Status.ERROR, 0),
                "overdue": late.get(definition.key, 0),
                **_percentile_days(e2e.get((definition.key,), {})),
                "within_sop": _share(row.get("n_within", 0), finished),
                "sop_days": days,
                "sop_working": working,
            }
        )
    return cards


def _late(process_keys: list[str]) -> Q:
    """A running case's fact is late when past its SOP deadline or waiting at a step past its due time. Both from
    indexes alone: case facts by (process_key, status, due_at, instance), late open steps by the partial
    monitor_open_task_late (process_key, due_at, instance_id) WHERE status = 'open'."""
    now = timezone.now()
    late_steps = HumanTask.objects.filter(status=HumanTask.Status.OPEN, process_key__in=process_keys, due_at__lt=now)
    return Q(due_at__lt=now) | Q(instance_id__in=late_steps.values("instance_id"))


def overdue_cases(process_key: str, filters: Filters) -> QuerySet[CaseFact]:
    """Running cases past their SOP deadline (time suspended left out), or waiting at a step past its due time."""
    cases = cases_in_scope(filters).filter(process_key=process_key, status__in=RUNNING)
    if filters.version:
        cases = cases.filter(version=filters.version)
    return cases.filter(_late([process_key]))


# --- steps (the heatmap) -----------------------------------------------------------------------------


def definition_for(process_key: str, version: int | None = None) -> ProcessDefinition:
    definitions = ProcessDefinition.objects.filter(key=process_key)
    if version:
        definitions = definitions.filter(version=version)
    definition = definitions.order_by("-version").first()
    if definition is None:
        from backend.core.exceptions import NotFound

        raise NotFound(_("There is no such process."))
    return definition


def heat(p90: float | None, due: float | None) -> str:
    """ok when the slowest tenth still meets the due time with a fifth to spare, warn when just, bad when not."""
    if p90 is None or not due:
        return "none"
    if p90 <= 0.8 * due:
        return "ok"
    if p90 <= due:
        return "warn"
    return "bad"


def step_stats(definition: ProcessDefinition, filters: Filters) -> list[dict[str, Any]]:
    """Per user task of the process: open and overdue now, completed in the period, p50/p90/p95 (waiting or
    after claim, within sketch.RELATIVE_ERROR), the share on time, and how often it ran again in a case."""
    now = timezone.now()
    measure = "claim" if filters.mode == "claim" else "wait"
    summaries = _summaries(StepSummary, filters, process_key=definition.key)
    open_tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN, process_key=definition.key)
    if filters.unit_ids is not None:
        open_tasks = open_tasks.filter(
            instance_id__in=CaseFact.objects.filter(unit_id__in=filters.unit_ids).values("instance_id")
        )
    if filters.version:
        open_tasks = open_tasks.filter(instance__definition__version=filters.version)
    if filters.role:
        summaries = summaries.filter(role=filters.role)
        open_tasks = open_tasks.filter(role=filters.role)
    # StepSummary (month rows and edge days, summaries.period_q), summed per step in the database; the
    # histograms too (summaries.histograms_merged), so Python only reads off each step's percentiles.
    done: dict[str, dict[str, Any]] = {
        row["spec_id"]: row
        for row in summaries.values("spec_id")
        .annotate(
            n_completed=Sum("completed"), n_with_due=Sum("with_due"), n_on_time=Sum("on_time"), n_again=Sum("repeated")
        )
        .order_by()
    }
    times = histograms_merged(summaries, ("spec_id",), measure)
    dues = histograms_merged(summaries, ("spec_id",), "due")
    waiting: dict[str, dict[str, Any]] = {
        counts["spec_id"]: dict(counts)
        for counts in open_tasks.values("spec_id")
        .annotate(open=Count("*"), overdue=Count("due_at", filter=Q(due_at__lt=now)))  # from the index alone
        .order_by()
    }
    steps = []
    tasks = (definition.routing or {}).get("tasks", {})
    for spec_id, info in tasks.items():
        row: dict[str, Any] = done.get(spec_id, {})
        p50, p90, p95 = sketch.percentiles(times.get((spec_id,), {}), (0.5, 0.9, 0.95))
        [due] = sketch.percentiles(dues.get((spec_id,), {}), (0.5,))
        now_row: dict[str, Any] = waiting.get(spec_id, {})
        titles = info.get("title") or {}
        properties = info.get("properties") or {}
        steps.append(
            {
                "id": spec_id,
                "title": titles.get(_language()) or titles.get("ru") or spec_id,
                "role": info.get("lane", ""),
                "due": properties.get("due") or (_("from the request") if properties.get("due_from") else ""),
                "due_seconds": due,
                "open": now_row.get("open", 0),
                "overdue": now_row.get("overdue", 0),
                "completed": row.get("n_completed", 0),
                "p50_hours": _hours(p50),
                "p90_hours": _hours(p90),
                "p95_hours": _hours(p95),
                "p50_days": _days(p50),
                "p90_days": _days(p90),
                "p95_days": _days(p95),
                "on_time": _share(row.get("n_on_time", 0), row.get("n_with_due", 0)),
                "repeated": row.get("n_again", 0),
                "heat": heat(p90, due),
            }
        )
    return steps


def _language() -> str:
    from django.utils.translation import get_language

    return (get_language() or "ru")[:2]


def heatmap_marks(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """What diagram.js draws: a heat marker and badges on each user task."""
    markers, badges = {}, {}
    for step in steps:
        markers[step["id"]] = [f"qj-heat-{step['heat']}"]
        items = [
            {"text": _("open %(n)s") % {"n": step["open"]}, "title": _("open now"), "tone": "info"},
        ]
        if step["overdue"]:
            items.append({"text": _("late %(n)s") % {"n": step["overdue"]}, "title": _("overdue now"), "tone": "bad"})
        items.append({"text": f"✓{step['completed']}", "title": _("completed in the period"), "tone": "muted"})
        if step["p90_hours"] is not None:
            items.append(
                {
                    "text": f"p90 {step['p90_hours']}h",
                    "title": _("p50 %(p50)s h, p90 %(p90)s h, p95 %(p95)s h (working hours)")
                    % {"p50": step["p50_hours"], "p90": step["p90_hours"], "p95": step["p95_hours"]},
                    "tone": {"ok": "ok", "warn": "warn", "bad": "bad"}.get(step["heat"], "muted"),
                }
            )
        if step["on_time"] is not None:
            items.append({"text": f"{round(step['on_time'] * 100)}%", "title": _("share on time"), "tone": "ok"})
        if step["repeated"]:
            items.append({"text": f"↺{step['repeated']}", "title": _("ran again in a case"), "tone": "warn"})
        badges[step["id"]] = items
    return {"markers": markers, "badges": badges}


# --- trends ------------------------------------------------------------------------------------------


def weekly_trend(process_key: str, filters: Filters) -> list[dict[str, Any]]:
    """Per week of the period: cases started, cases finished and the p90 end-to-end time of those (from the
    daily summaries; a week cut by the period counts its days inside it)."""
    rows = _summary_scope(
        CaseSummary.objects.filter(
            span=Span.DAY, day__gte=filters.start, day__lte=filters.end, process_key=process_key
        ),
        filters,
    )
    if filters.version:
        rows = rows.filter(version=filters.version)
    # Weeks (TruncWeek: their Mondays, on both databases) summed and merged in the database.
    rows = rows.annotate(week=Cast(TruncWeek("day"), DateField()))  # a date, not PostgreSQL's timestamp
    e2e = histograms_merged(rows, ("week",), "e2e")
    weeks: dict[date, dict[str, Any]] = {
        week: {"started": started, "finished": finished, "e2e": e2e.get((week,), {})}
        for week, started, finished in rows.values_list("week")
        .annotate(n_started=Sum("started"), n_finished=Sum("finished"))
        .order_by()
    }
    result = []
    monday = filters.start - timedelta(days=filters.start.weekday())
    while monday <= filters.end:
        week = weeks.get(monday, {})
        [p90] = sketch.percentiles(week.get("e2e", {}), (0.9,))
        result.append(
            {
                "week": monday.isoformat(),
                "started": week.get("started", 0),
                "finished": week.get("finished", 0),
                "p90_days": _days(p90),
                "key": _week_key(monday),
            }
        )
        monday += timedelta(days=7)
    return result


def _week_key(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


# --- overdue and at-risk work ------------------------------------------------------------------------


class PastHalf(Func):
    """True when a task has used more than half of its time: created + (due − created) / 2 ≤ now."""

    output_field: Any = None
    conditional = True

    def __init__(self, now: datetime) -> None:
        from django.db.models import BooleanField, Value

        super().__init__(F("created_at"), F("due_at"), Value(now))
        self.output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        created, created_params = compiler.compile(self.source_expressions[0])
        due, due_params = compiler.compile(self.source_expressions[1])
        now, now_params = compiler.compile(self.source_expressions[2])
        sql = f"({created} + ({due} - {created}) / 2 <= {now})"
        return sql, (*created_params, *due_params, *created_params, *now_params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        created, created_params = compiler.compile(self.source_expressions[0])
        due, due_params = compiler.compile(self.source_expressions[1])
        now, now_params = compiler.compile(self.source_expressions[2])
        sql = f"((julianday({created}) + julianday({due})) / 2 <= julianday({now}))"
        return sql, (*created_params, *due_params, *now_params)


def at_risk_tasks(
    filters: Filters, *, process_key: str = "", overdue_only: bool = False, after: int | None = None
) -> QuerySet[HumanTask]:
    """Open tasks past their due time or past half of it, the most overdue first, read along the (status, due_at)
    index of tasks; `after` (a task's id) starts past that task (keyset pagination)."""
    now = timezone.now()
    tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN, due_at__isnull=False)
    if after is not None:
        last = HumanTask.objects.filter(pk=after, due_at__isnull=False).values_list("due_at", flat=True).first()
        if last is None:
            raise ValidationFailed(
                _("Please correct the marked fields."), fields={"after": [_("There is no such task with a due time.")]}
            )
        tasks = tasks.filter(Q(due_at__gt=last) | Q(due_at=last, pk__gt=after))
    tasks = tasks.filter(due_at__lt=now) if overdue_only else tasks.filter(Q(due_at__lt=now) | PastHalf(now))
    if process_key:
        tasks = tasks.filter(process_key=process_key)
    if filters.role:
        tasks = tasks.filter(role=filters.role)
    if filters.unit_ids is not None:
        tasks = tasks.filter(
            instance_id__in=CaseFact.objects.filter(unit_id__in=filters.unit_ids).values("instance_id")
        )
    # Only what the list shows: the instance's engine state and data, and the task's submitted data and search
    # text, stay in the database (a page of 50 rows read 4 whole rows each).
    return tasks.select_related("assignee", "instance").only(*_AT_RISK_FIELDS).order_by("due_at", "pk")


_PERSON_FIELDS = ("username", "first_name", "last_name", "patronymic")
_AT_RISK_FIELDS = (
    "instance_id",
    "spec_id",
    "process_key",
    "title",
    "subject",
    "role",
    "status",
    "created_at",
    "due_at",
    "assignee_id",
    "instance__number",
    *(f"assignee__{f}" for f in _PERSON_FIELDS),
)


def describe_tasks(tasks: list[HumanTask]) -> list[dict[str, Any]]:
    """Who holds each task (or to whom it is offered), their substitutes, the reminder and escalation state."""
    ids = [t.pk for t in tasks]
    offered: dict[int, list[User]] = {}
    for candidate in TaskCandidate.objects.filter(task_id__in=ids, is_open=True).select_related("user"):
        offered.setdefault(candidate.task_id, []).append(candidate.user)
    holders = {u.pk for t in tasks for u in ([t.assignee] if t.assignee else offered.get(t.pk, [])) if u}
    substitutes: dict[int, list[User]] = {}
    for sub in active_substitutions().filter(absent_id__in=holders).select_related("substitute"):
        substitutes.setdefault(sub.absent_id, []).append(sub.substitute)
    timers: dict[int, dict[str, Timer]] = {}
    for timer in Timer.objects.filter(task_id__in=ids, kind__in=[Timer.Kind.REMINDER, Timer.Kind.ESCALATION]):
        assert timer.task_id is not None  # noqa: S101 - filtered on tasks
        timers.setdefault(timer.task_id, {})[timer.kind] = timer
    now = timezone.now()
    rows = []
    for task in tasks:
        people = [task.assignee] if task.assignee else offered.get(task.pk, [])
        escalation = timers.get(task.pk, {}).get(Timer.Kind.ESCALATION)
        reminder = timers.get(task.pk, {}).get(Timer.Kind.REMINDER)
        assert task.due_at is not None  # noqa: S101 - at_risk_tasks has only tasks with a due time
        rows.append(
            {
                "task": task,
                "holders": people,
                "claimed": task.assignee is not None,
                "substitutes": [s for p in people for s in substitutes.get(p.pk, [])],
                "overdue": task.due_at < now,
                "since": task.due_at if task.due_at < now else task.created_at + (task.due_at - task.created_at) / 2,
                "escalated_at": escalation.fired_at if escalation else None,
                "reminded_at": reminder.fired_at if reminder else None,
            }
        )
    return rows


def _medians(rows: QuerySet[Any], by: str) -> dict[Any, float | None]:
    """The median of the merged `wait` histograms of `rows` per value of `by`."""
    return {key: sketch.percentiles(hist, (0.5,))[0] for (key,), hist in histograms_merged(rows, (by,), "wait").items()}


def _open_per_unit(tasks: QuerySet[HumanTask], now: datetime) -> dict[int | None, dict[str, int]]:
    """Open and overdue tasks per unit of their case. The open tasks (index-only, monitor_open_task_holder holds
    instance_id and due_at) joined straight to their case facts: through the ORM the join went by way of every
    case's row as well."""
    inner, params = tasks.order_by().values("instance_id", "due_at").query.sql_with_params()
    sql = (
        "SELECT f.unit_id, COUNT(*), SUM(CASE WHEN t.due_at < %s THEN 1 ELSE 0 END) "  # noqa: S608 - our own SQL
        f"FROM ({inner}) t INNER JOIN {CaseFact._meta.db_table} f ON f.instance_id = t.instance_id GROUP BY f.unit_id"
    )
    connection = connections[tasks.db]
    with connection.cursor() as cursor:
        cursor.execute(sql, (connection.ops.adapt_datetimefield_value(now), *params))
        return {unit_id: {"open": n, "overdue": int(late or 0)} for unit_id, n, late in cursor.fetchall()}


def workload(filters: Filters, *, by: str = "person") -> list[dict[str, Any]]:
    """Per person or per unit: open tasks, overdue ones, and the median working time of tasks finished in the
    period (from the summaries, within sketch.RELATIVE_ERROR) — where work piles up. A person's open tasks are
    those they claimed and those offered to them."""
    now = timezone.now()
    tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
    if filters.unit_ids is not None:
        tasks = tasks.filter(
            instance_id__in=CaseFact.objects.filter(unit_id__in=filters.unit_ids).values("instance_id")
        )
    if by == "unit":
        medians = _medians(_summaries(StepSummary, filters, per_unit=True), "unit_id")  # summed over steps
        unit_counts = _open_per_unit(tasks, now)
        units = OrgUnit.objects.in_bulk([u for u in {*unit_counts, *medians} if u is not None])
        rows = [
            {
                "name": units[unit_id].name_in(_language()) if unit_id in units else "—",
                "open": unit_counts.get(unit_id, {}).get("open", 0),
                "overdue": unit_counts.get(unit_id, {}).get("overdue", 0),
                "median_hours": _hours(medians.get(unit_id)),
            }
            for unit_id in {*unit_counts, *medians}
        ]
        return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["name"]))
    counts: dict[int, dict[str, int]] = {}
    assigned = (
        tasks.filter(assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    # Both from the partial index monitor_open_task_holder (assignee_id, due_at, id, instance_id) WHERE open:
    # claimed tasks grouped by assignee; unclaimed ones (assignee NULL) hash-joined to their open candidates.
    unclaimed = {"task__status": HumanTask.Status.OPEN, "task__assignee__isnull": True}
    if filters.unit_ids is not None:
        unclaimed["task__instance_id__in"] = CaseFact.objects.filter(unit_id__in=filters.unit_ids).values("instance_id")
    offered = (
        TaskCandidate.objects.filter(is_open=True, **unclaimed)
        .values_list("user_id")
        .annotate(open=Count("task_id"), overdue=Count("task_id", filter=Q(task__due_at__lt=now)))
    )
    for user_id, open_count, overdue_count in [*assigned.order_by(), *offered.order_by()]:
        row = counts.setdefault(user_id, {"open": 0, "overdue": 0})
        row["open"] += open_count
        row["overdue"] += overdue_count
    medians = _medians(_summaries(PersonSummary, filters, user_id__in=list(counts)), "user_id")
    people = User.objects.in_bulk(list(counts))
    return [
        {
            "name": people[user_id].full_name or people[user_id].username,
            "username": people[user_id].username,
            "open": row["open"],
            "overdue": row["overdue"],
            "median_hours": _hours(medians.get(user_id)),
        }
        for user_id, row in sorted(counts.items(), key=lambda item: (-item[1]["overdue"], -item[1]["open"]))
        if user_id in people
    ][:200]


# --- cases that need an operator ---------------------------------------------------------------------


def incidents(filters: Filters) -> QuerySet[ProcessInstance]:
    """Cases stopped by an error or suspended, the oldest first."""
    instances = ProcessInstance.objects.filter(
        status__in=[ProcessInstance.Status.ERROR, ProcessInstance.Status.SUSPENDED]
    ).defer("state")
    if filters.unit_ids is not None:
        instances = instances.filter(pk__in=CaseFact.objects.filter(unit_id__in=filters.unit_ids).values("instance_id"))
    return instances.select_related("definition").order_by("updated_at")


def incident_details(instances: list[ProcessInstance]) -> dict[int, dict[str, Any]]:
    """For each case: the step that failed (or why it was suspended) and since when, from its history."""
    details: dict[int, dict[str, Any]] = {}
    events = (
        HistoryEvent.objects.filter(instance_id__in=[i.pk for i in instances], kind__in=["error", "suspended"])
        .order_by("instance_id", "seq")
        .values_list("instance_id", "kind", "payload", "at")
    )
    for instance_id, kind, payload, at in events:
        details[instance_id] = {
            "kind": kind,
            "step": payload.get("task") or "",
            "message": payload.get("message") or payload.get("reason") or "",
            "since": at,
        }
    return details
