"""The daily and monthly summaries the figures are read from: the same numbers whichever rows a period reads,
rebuilt idempotently, and a running case's SOP deadline with its suspended time left out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.monitor.facts import facts_refresh
from backend.monitor.models import CaseFact, CaseSummary, PersonSummary, Span, StepSummary
from backend.monitor.selectors import Filters, overdue_cases, process_cards, workload
from backend.monitor.summaries import period_q, summaries_rebuild
from backend.workflow.models import ProcessInstance

from .conftest import at, event, make_case, make_task, sketched

pytestmark = pytest.mark.django_db


def test_a_period_reads_whole_months_and_the_days_at_its_edges() -> None:
    rows = [
        CaseSummary(span=span, day=day, process_key="p", version=1, started=1)
        for span, day in [
            (Span.DAY, date(2026, 1, 30)),
            (Span.DAY, date(2026, 1, 31)),
            (Span.MONTH, date(2026, 2, 1)),
            (Span.DAY, date(2026, 2, 3)),  # inside February: read through the month's row
            (Span.DAY, date(2026, 3, 1)),
            (Span.DAY, date(2026, 3, 2)),
            (Span.MONTH, date(2026, 3, 1)),  # March is not whole in the period
        ]
    ]
    CaseSummary.objects.bulk_create(rows)
    chosen = CaseSummary.objects.filter(period_q(date(2026, 1, 31), date(2026, 3, 1)))
    assert sorted((r.span, r.day) for r in chosen) == [
        (Span.DAY, date(2026, 1, 31)),
        (Span.DAY, date(2026, 3, 1)),
        (Span.MONTH, date(2026, 2, 1)),
    ]
    within_a_month = CaseSummary.objects.filter(period_q(date(2026, 2, 2), date(2026, 2, 27)))
    assert [(r.span, r.day) for r in within_a_month] == [(Span.DAY, date(2026, 2, 3))]


@pytest.fixture
def across_months(demo: None) -> None:
    """Transcripts finished in January, February and March, one working day each; tasks done in each month."""
    for day in ["2026-01-27", "2026-02-10", "2026-02-17", "2026-03-03"]:
        started = at(day)
        case = make_case("transcript_issuance", started=started, finished=started + timedelta(days=1))
        make_task(case, "review", created=started, completed=started + timedelta(hours=5), role="registrar_staff")
    facts_refresh()


def test_month_rows_and_day_rows_give_the_same_figures(across_months: None) -> None:
    def card(start: date, end: date) -> dict:
        return next(c for c in process_cards(Filters(start=start, end=end)) if c["key"] == "transcript_issuance")

    whole = card(date(2026, 1, 1), date(2026, 3, 31))  # three month rows
    edges = card(date(2026, 1, 2), date(2026, 3, 30))  # days of January and March, February's month row
    assert (whole["started"], whole["finished"]) == (edges["started"], edges["finished"]) == (4, 4)
    assert whole["p50_days"] == edges["p50_days"]
    assert StepSummary.objects.filter(span=Span.MONTH, all_units=False).count() == 3
    assert StepSummary.objects.filter(span=Span.MONTH, all_units=True).count() == 3


def test_the_all_units_rows_give_the_units_figures_added_up(across_months: None) -> None:
    """The whole university reads the all-units rows, a scope its units' rows: with every unit in the scope,
    every figure is the same."""
    from backend.accounts.models import OrgUnit
    from backend.monitor.selectors import step_stats, weekly_trend
    from backend.workflow.models import ProcessDefinition

    make_case("transcript_issuance", started=at("2026-02-11"), finished=at("2026-02-13"), department="dept-chemistry")
    facts_refresh()
    everything = frozenset(OrgUnit.objects.values_list("pk", flat=True))
    definition = ProcessDefinition.objects.filter(key="transcript_issuance").order_by("-version").first()
    assert definition is not None
    for start, end in [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 1, 20), date(2026, 3, 5))]:
        whole, units = Filters(start=start, end=end), Filters(start=start, end=end, unit_ids=everything)
        assert process_cards(whole) == process_cards(units)
        assert step_stats(definition, whole) == step_stats(definition, units)
        assert weekly_trend("transcript_issuance", whole) == weekly_trend("transcript_issuance", units)
    assert CaseSummary.objects.filter(all_units=True, unit__isnull=False).count() == 0


def test_rebuilding_is_idempotent(across_months: None) -> None:
    before = sorted(CaseSummary.objects.values_list("span", "day", "started", "finished"))
    summaries_rebuild([date(2026, 2, 10), date(2026, 2, 10), date(2026, 3, 3)])
    facts_refresh()
    assert sorted(CaseSummary.objects.values_list("span", "day", "started", "finished")) == before


def test_suspended_time_does_not_make_a_running_case_overdue(demo: None) -> None:
    """A transcript (3 working days) running for four working days, two of them suspended: not overdue; the
    same case without the suspension is."""
    now = timezone.now()
    start = now - timedelta(days=6)  # six calendar days hold at least four working days
    paused = make_case("transcript_issuance", started=start)
    event(paused, "suspended", start + timedelta(hours=1))
    ProcessInstance.objects.filter(pk=paused.pk).update(status=ProcessInstance.Status.SUSPENDED)
    plain = make_case("transcript_issuance", started=start)
    facts_refresh()
    period = Filters(start=start.date(), end=now.date())
    late = set(overdue_cases("transcript_issuance", period).values_list("instance_id", flat=True))
    assert plain.pk in late
    assert paused.pk not in late  # suspended almost since it started: its clock has hardly run
    deadline = CaseFact.objects.get(pk=paused.pk).due_at
    assert deadline is not None
    assert deadline > now  # moves on while the case stays suspended

    event(paused, "resumed", now - timedelta(minutes=1))
    ProcessInstance.objects.filter(pk=paused.pk).update(status=ProcessInstance.Status.RUNNING)
    facts_refresh()
    assert paused.pk not in set(overdue_cases("transcript_issuance", period).values_list("instance_id", flat=True))


def test_a_persons_median_comes_from_their_summaries(demo: None) -> None:
    from tests.conftest import user

    head = user("department_head1")
    case = make_case(started=at("2026-02-09", 8))
    for hours_taken in (2, 4):
        task = make_task(case, created=at("2026-02-09"), completed=at("2026-02-09", 9 + hours_taken), assignee=head)
        type(task).objects.filter(pk=task.pk).update(completed_by=head)
    make_task(case, created=timezone.now(), due=timezone.now() + timedelta(days=2), assignee=head)  # open now
    facts_refresh()
    february = Filters(start=date(2026, 2, 1), end=date(2026, 2, 28))
    [row] = [r for r in workload(february) if r["username"] == "department_head1"]
    assert (row["open"], row["median_hours"]) == (1, sketched(3.0))
    assert PersonSummary.objects.filter(user=head, span=Span.MONTH, completed=2).exists()
