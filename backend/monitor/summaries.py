"""Per-day and per-month summaries of the rollups, so a year's figures merge a few thousand rows, not a million.

A day's rows (`CaseSummary`, `StepSummary`, span "day") are worked out again from that day's facts whenever
the refresh writes a fact dated that day, and a month's rows (span "month") from its days' rows: both are
functions of the facts, so rebuilding is idempotent. A period reads the months it covers whole and the
days at its edges (`period_q`). Durations are histograms (sketch.py), percentiles come from their merge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from backend.workflow.models import HumanTask, ProcessInstance

from . import sketch
from .models import CaseFact, CaseSummary, PersonSummary, Span, StepSummary, TaskFact


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (_month(day) + timedelta(days=32)).replace(day=1)


def period_q(start: date, end: date) -> Q:
    """The summary rows of the days `start`…`end`: whole months from month rows, the edges from day rows."""
    first = start if start.day == 1 else _next_month(start)
    after = _month(end + timedelta(days=1))  # the first day after the last whole month
    if first >= after:
        return Q(span=Span.DAY, day__gte=start, day__lte=end)
    return (
        Q(span=Span.MONTH, day__gte=first, day__lt=after)
        | Q(span=Span.DAY, day__gte=start, day__lt=first)
        | Q(span=Span.DAY, day__gte=after, day__lte=end)
    )


def histograms_merged(rows: QuerySet[Any], by: tuple[str, ...], field: str) -> dict[tuple[Any, ...], sketch.Histogram]:
    """The histograms in `field` of `rows`, added up per value of the `by` fields, in the database.

    Each stored histogram is unnested into (bucket, count) rows (`jsonb_each_text` on PostgreSQL, `json_each` on
    SQLite) and the counts are summed per group and bucket: integer sums, so both databases give the same merged
    histograms, hence the same percentiles, and the pages never decode thousands of JSON objects in Python."""
    columns = {f"g{n}": F(name) for n, name in enumerate(by)}
    try:
        inner, params = rows.order_by().values(**columns, h=F(field)).query.sql_with_params()
    except EmptyResultSet:  # e.g. `user_id__in=[]`: nothing to merge
        return {}
    connection = connections[rows.db]
    groups = ", ".join(f"s.g{n}" for n in range(len(by)))
    if connection.vendor == "postgresql":
        buckets, count = "jsonb_each_text(s.h)", "CAST(b.value AS integer)"
    else:
        buckets, count = "json_each(s.h)", "b.value"
    select = f"{groups}, " if by else ""
    sql = (
        f"SELECT {select}b.key, SUM({count}) FROM ({inner}) s CROSS JOIN {buckets} b "  # noqa: S608 - our own SQL
        f"GROUP BY {select}b.key"
    )
    # A raw cursor gives SQLite's dates as text: each group goes through its fields as the ORM would (once).
    annotations = rows.query.annotations
    fields = [annotations[n].output_field if n in annotations else rows.model._meta.get_field(n) for n in by]
    keys: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    merged: dict[tuple[Any, ...], sketch.Histogram] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            raw = row[:-2]
            key = keys.get(raw)
            if key is None:
                key = keys[raw] = tuple(None if v is None else f.to_python(v) for f, v in zip(fields, raw, strict=True))
            merged.setdefault(key, {})[str(row[-2])] = int(row[-1])
    return merged


def _day_cases(day: date) -> list[CaseSummary]:
    since, until = _bounds(day)
    rows: dict[tuple[str, int, int | None], CaseSummary] = {}
    durations: dict[tuple[str, int, int | None], list[float | None]] = defaultdict(list)

    def row(key: tuple[str, int, int | None]) -> CaseSummary:
        if key not in rows:
            rows[key] = CaseSummary(span=Span.DAY, day=day, process_key=key[0], version=key[1], unit_id=key[2], e2e={})
        return rows[key]

    for process_key, version, unit_id in CaseFact.objects.filter(
        started_at__gte=since, started_at__lt=until
    ).values_list("process_key", "version", "unit_id"):
        row((process_key, version, unit_id)).started += 1
    finished = CaseFact.objects.filter(
        finished_at__gte=since,
        finished_at__lt=until,
        status__in=[ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED],
    ).values_list("process_key", "version", "unit_id", "status", "e2e_seconds", "within_sop")
    for process_key, version, unit_id, status, e2e, within in finished:
        summary = row((process_key, version, unit_id))
        if status == ProcessInstance.Status.CANCELLED:
            summary.cancelled += 1
            continue
        summary.finished += 1
        summary.within_sop += bool(within)
        durations[(process_key, version, unit_id)].append(e2e)
    for key, values in durations.items():
        rows[key].e2e = sketch.histogram(values)
    return list(rows.values())


def _day_steps(day: date) -> tuple[list[StepSummary], list[PersonSummary]]:
    since, until = _bounds(day)
    rows: dict[tuple[Any, ...], StepSummary] = {}
    values: dict[tuple[Any, ...], list[tuple[float | None, float | None, float | None]]] = defaultdict(list)
    people: dict[tuple[int, int | None], list[float | None]] = defaultdict(list)
    facts = TaskFact.objects.filter(
        status=HumanTask.Status.COMPLETED, completed_at__gte=since, completed_at__lt=until
    ).values_list(
        "process_key",
        "version",
        "spec_id",
        "role",
        "unit_id",
        "on_time",
        "loop",
        "wait_seconds",
        "claim_seconds",
        "due_seconds",
        "completed_by_id",
    )
    for process_key, version, spec_id, role, unit_id, on_time, loop, wait, claim, due, user_id in facts:
        if user_id is not None:
            people[(user_id, unit_id)].append(wait)
        key = (process_key, version, spec_id, role, unit_id)
        summary = rows.get(key)
        if summary is None:
            summary = rows[key] = StepSummary(
                span=Span.DAY,
                day=day,
                process_key=process_key,
                version=version,
                spec_id=spec_id,
                role=role,
                unit_id=unit_id,
            )
        summary.completed += 1
        summary.with_due += on_time is not None
        summary.on_time += bool(on_time)
        summary.repeated += loop > 0
        values[key].append((wait, claim, due))
    for key, triples in values.items():
        rows[key].wait = sketch.histogram(t[0] for t in triples)
        rows[key].claim = sketch.histogram(t[1] for t in triples)
        rows[key].due = sketch.histogram(t[2] for t in triples)
    persons = [
        PersonSummary(
            span=Span.DAY, day=day, user_id=user_id, unit_id=unit_id, completed=len(waits), wait=sketch.histogram(waits)
        )
        for (user_id, unit_id), waits in people.items()
    ]
    return list(rows.values()), persons


_CASE_COUNTS = ("started", "finished", "cancelled", "within_sop")
_STEP_COUNTS = ("completed", "with_due", "on_time", "repeated")


_CASE_KEY = ("process_key", "version")
_STEP_KEY = ("process_key", "version", "spec_id", "role")
_PERSON_KEY = ("user_id",)
_CASE_HISTS = ("e2e",)
_STEP_HISTS = ("wait", "claim", "due")
_PERSON_HISTS = ("wait",)


def _all_units(
    model: Any, rows: list[Any], key_fields: tuple[str, ...], counts: tuple[str, ...], hists: tuple[str, ...]
):
    """The all-units rows of one day from its units' rows: counts added, histograms merged."""
    merged: dict[tuple[Any, ...], Any] = {}
    for one in rows:
        key = tuple(getattr(one, f) for f in key_fields)
        total = merged.get(key)
        if total is None:
            total = merged[key] = model(
                span=one.span,
                day=one.day,
                all_units=True,
                **dict(zip(key_fields, key, strict=True)),
                **{h: {} for h in hists},
            )
        for f in counts:
            setattr(total, f, getattr(total, f) + getattr(one, f))
        for h in hists:
            setattr(total, h, sketch.merge([getattr(total, h), getattr(one, h)]))
    return list(merged.values())


def _month_rows(
    model: Any,
    first: date,
    key_fields: tuple[str, ...],
    counts: tuple[str, ...],
    hists: tuple[str, ...],
    *,
    all_units: bool,
):
    """A month's rows from its days' rows (per unit, or all units): counts summed, histograms merged in the database."""
    if not all_units:
        key_fields = (*key_fields, "unit_id")
    days = model.objects.filter(span=Span.DAY, all_units=all_units, day__gte=first, day__lt=_next_month(first))
    totals = days.values(*key_fields).annotate(**{f"total_{f}": Sum(f) for f in counts}).order_by()
    merged = {h: histograms_merged(days, key_fields, h) for h in hists}
    rows = []
    for total in totals:
        key = tuple(total[f] for f in key_fields)
        rows.append(
            model(
                span=Span.MONTH,
                day=first,
                all_units=all_units,
                **dict(zip(key_fields, key, strict=True)),
                **{f: total[f"total_{f}"] for f in counts},
                **{h: merged[h].get(key, {}) for h in hists},
            )
        )
    return rows


def summaries_rebuild(days: Iterable[date]) -> int:
    """Work out the summaries of these days and of their months again from the facts, per unit and for all
    units; returns rows written.

    Call inside the transaction that wrote the facts (facts.facts_refresh holds the refresh lock)."""
    days = sorted(set(days))
    kinds: tuple[tuple[Any, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
        (CaseSummary, _CASE_KEY, _CASE_COUNTS, _CASE_HISTS),
        (StepSummary, _STEP_KEY, _STEP_COUNTS, _STEP_HISTS),
        (PersonSummary, _PERSON_KEY, ("completed",), _PERSON_HISTS),
    )
    written = 0
    for day in days:
        for kind in kinds:
            kind[0].objects.filter(span=Span.DAY, day=day).delete()
        steps, persons = _day_steps(day)
        per_unit: tuple[list[Any], ...] = (_day_cases(day), steps, persons)
        for (model, key_fields, counts, hists), rows in zip(kinds, per_unit, strict=True):
            both = [*rows, *_all_units(model, rows, key_fields, counts, hists)]
            written += len(model.objects.bulk_create(both, batch_size=1000))
    for first in sorted({_month(d) for d in days}):
        for model, key_fields, counts, hists in kinds:
            model.objects.filter(span=Span.MONTH, day=first).delete()
            for all_units in (False, True):
                rows = _month_rows(model, first, key_fields, counts, hists, all_units=all_units)
                written += len(model.objects.bulk_create(rows, batch_size=1000))
    return written
