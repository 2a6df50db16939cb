"""Every figure of the monitor against a known distribution (run on SQLite and on PostgreSQL: same numbers).

Times are in February 2026, whose working days in Kazakhstan have no holiday: Monday the 9th to Friday the
13th, Monday the 16th to Friday the 20th.
"""

from __future__ import annotations

from datetime import date

import pytest

from backend.core.models import CalendarDay
from backend.monitor.facts import facts_refresh
from backend.monitor.models import CaseFact, TaskFact
from backend.monitor.scope import MonitorScope
from backend.monitor.selectors import (
    Filters,
    at_risk_tasks,
    describe_tasks,
    heatmap_marks,
    incidents,
    process_cards,
    step_stats,
    weekly_trend,
    workload,
)
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import user

from .conftest import at, event, hours, make_case, make_task, sketched

pytestmark = pytest.mark.django_db
FEBRUARY = Filters(start=date(2026, 2, 1), end=date(2026, 2, 28))
EVERYTHING = MonitorScope(unit_ids=None, may_act=True, may_operate=True)


def steps_by_id(filters: Filters = FEBRUARY) -> dict[str, dict]:
    definition = ProcessDefinition.objects.filter(key="journal_reopen").order_by("-version").first()
    assert definition is not None
    return {s["id"]: s for s in step_stats(definition, filters)}


@pytest.fixture
def reopen_steps(demo: None) -> None:
    """head_visa: ten tasks of 1…10 working hours; curation_visa: over a weekend; school_visa: late;
    vice_visa: a day of it suspended; revise: ran twice in one case."""
    case = make_case(started=at("2026-02-09", 8), finished=at("2026-02-20", 12))
    for k in range(1, 11):
        task = make_task(
            case, "head_visa", created=at("2026-02-09"), completed=at("2026-02-09") + hours(k), due=at("2026-02-11")
        )
        if k == 1:
            event(case, "claimed", at("2026-02-09", 9, 30), {"task": task.pk})
    make_task(
        case,
        "curation_visa",
        created=at("2026-02-13", 15),
        completed=at("2026-02-16", 15),
        due=at("2026-02-17", 15),
        role="dean_curation",
    )
    make_task(
        case,
        "school_visa",
        created=at("2026-02-09"),
        completed=at("2026-02-12"),
        due=at("2026-02-11"),
        role="school_dean",
    )
    suspended = make_case(started=at("2026-02-16", 8))
    make_task(
        suspended,
        "vice_visa",
        created=at("2026-02-16"),
        completed=at("2026-02-18"),
        due=at("2026-02-18"),
        role="vice_rector",
    )
    event(suspended, "suspended", at("2026-02-16", 12))
    event(suspended, "resumed", at("2026-02-17", 12))
    looped = make_case(started=at("2026-02-16", 8))
    make_task(looped, "revise", created=at("2026-02-16"), completed=at("2026-02-16", 11), role="teacher")
    make_task(looped, "revise", created=at("2026-02-17"), completed=at("2026-02-17", 10), role="teacher")
    facts_refresh()


def test_step_percentiles_are_working_hours(reopen_steps: None) -> None:
    head = steps_by_id()["head_visa"]
    assert head["completed"] == 10
    assert (head["p50_hours"], head["p90_hours"], head["p95_hours"]) == (sketched(5.5), sketched(9.1), sketched(9.55))
    assert head["on_time"] == 1.0
    assert head["due_seconds"] == sketched(48 * 3600)
    assert head["heat"] == "ok"


def test_a_weekend_does_not_count(reopen_steps: None) -> None:
    curation = steps_by_id()["curation_visa"]
    assert curation["p50_hours"] == sketched(24.0)  # Friday 15:00 → Monday 15:00: 9 + 15 working hours
    assert curation["due_seconds"] == sketched(48 * 3600)
    assert curation["on_time"] == 1.0


def test_a_late_step_is_red(reopen_steps: None) -> None:
    school = steps_by_id()["school_visa"]
    assert school["p90_hours"] == sketched(72.0)
    assert school["on_time"] == 0.0
    assert school["heat"] == "bad"
    marks = heatmap_marks(list(steps_by_id().values()))
    assert marks["markers"]["school_visa"] == ["qj-heat-bad"]
    assert marks["markers"]["head_visa"] == ["qj-heat-ok"]
    assert any(b["text"] == "0%" for b in marks["badges"]["school_visa"])


def test_suspended_time_is_left_out(reopen_steps: None) -> None:
    assert steps_by_id()["vice_visa"]["p50_hours"] == sketched(24.0)  # 48 hours less the suspended day


def test_returns_and_loops_are_counted(reopen_steps: None) -> None:
    revise = steps_by_id()["revise"]
    assert revise["completed"] == 2
    assert revise["repeated"] == 1
    assert sorted(TaskFact.objects.filter(spec_id="revise").values_list("loop", flat=True)) == [0, 1]


def test_time_after_claim(reopen_steps: None) -> None:
    fact = TaskFact.objects.get(spec_id="head_visa", wait_seconds=3600)
    assert fact.claim_seconds == 1800  # claimed half an hour after it was offered
    claimed = steps_by_id(Filters(start=FEBRUARY.start, end=FEBRUARY.end, mode="claim"))["head_visa"]
    assert claimed["completed"] == 10
    assert claimed["p95_hours"] is not None


def test_the_period_and_the_role_filter(reopen_steps: None) -> None:
    january = Filters(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert steps_by_id(january)["head_visa"]["completed"] == 0
    deans = steps_by_id(Filters(start=FEBRUARY.start, end=FEBRUARY.end, role="school_dean"))
    assert deans["school_visa"]["completed"] == 1
    assert deans["head_visa"]["completed"] == 0


def test_a_university_exception_is_a_day_off(demo: None) -> None:
    CalendarDay.objects.create(date=date(2026, 2, 10), is_working=False, description="university day off")
    case = make_case(started=at("2026-02-09", 8))
    make_task(case, "head_visa", created=at("2026-02-09", 12), completed=at("2026-02-11", 12), due=at("2026-02-12", 12))
    facts_refresh()
    fact = TaskFact.objects.get(task__instance=case)
    assert fact.wait_seconds == 24 * 3600  # Monday 12 + Wednesday 12 hours; Tuesday is off
    assert fact.due_seconds == 48 * 3600


@pytest.fixture
def transcripts(demo: None) -> None:
    """Four transcripts finished after 1, 2, 3 and 4 working days; one cancelled; one running since January."""
    for days, end in enumerate(["2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13"], start=1):
        make_case("transcript_issuance", started=at("2026-02-09"), finished=at(end), department="dept-anatomy")
        assert days
    make_case(
        "transcript_issuance",
        started=at("2026-02-09"),
        finished=at("2026-02-09", 10),
        status=ProcessInstance.Status.CANCELLED,
        department="dept-chemistry",
    )
    make_case("transcript_issuance", started=at("2026-01-05"), department="dept-chemistry")
    facts_refresh()


def test_process_cards(transcripts: None) -> None:
    card = next(c for c in process_cards(FEBRUARY) if c["key"] == "transcript_issuance")
    assert (card["started"], card["finished"], card["cancelled"], card["running"]) == (5, 4, 1, 1)
    assert (card["p50_days"], card["p90_days"], card["p95_days"]) == (sketched(2.5), sketched(3.7), sketched(3.85))
    assert card["within_sop"] == 0.75  # three of four within 3 working days
    assert card["overdue"] == 1  # running since January: far past its 3 days


def test_cards_by_unit(transcripts: None) -> None:
    from backend.accounts.models import OrgUnit
    from backend.accounts.selectors import descendants

    chemistry = frozenset(descendants([OrgUnit.objects.get(code="dept-chemistry")]))
    card = next(
        c
        for c in process_cards(Filters(start=FEBRUARY.start, end=FEBRUARY.end, unit_ids=chemistry))
        if c["key"] == "transcript_issuance"
    )
    assert (card["started"], card["finished"], card["cancelled"], card["running"]) == (1, 0, 1, 1)
    assert card["p50_days"] is None


def test_weekly_trend(transcripts: None) -> None:
    weeks = {w["week"]: w for w in weekly_trend("transcript_issuance", FEBRUARY)}
    assert weeks["2026-02-09"]["started"] == 5
    assert weeks["2026-02-09"]["finished"] == 4
    assert weeks["2026-02-09"]["p90_days"] == sketched(3.7)
    assert weeks["2026-02-16"]["started"] == 0


def test_case_facts_follow_the_status(transcripts: None) -> None:
    running = CaseFact.objects.get(status=ProcessInstance.Status.RUNNING)
    ProcessInstance.objects.filter(pk=running.instance_id).update(
        status=ProcessInstance.Status.COMPLETED, completed_at=at("2026-01-06")
    )
    facts_refresh()
    running.refresh_from_db()
    assert running.status == ProcessInstance.Status.COMPLETED
    assert running.e2e_seconds == 24 * 3600
    assert running.within_sop is True


def test_overdue_and_at_risk_tasks(demo: None) -> None:
    from django.utils import timezone

    now = timezone.now()
    case = make_case(started=now - hours(100))
    late = make_task(case, "head_visa", created=now - hours(50), due=now - hours(2), assignee=user("department_head1"))
    risky = make_task(case, "curation_visa", created=now - hours(30), due=now + hours(10))
    make_task(case, "school_visa", created=now - hours(1), due=now + hours(40))  # fresh: not at risk
    facts_refresh()
    mine = [t for t in at_risk_tasks(FEBRUARY) if t.instance_id == case.pk]
    assert mine == [late, risky]
    assert [t for t in at_risk_tasks(FEBRUARY, overdue_only=True) if t.instance_id == case.pk] == [late]
    [row] = [r for r in describe_tasks(mine) if r["task"] == late]
    assert row["overdue"]
    assert row["claimed"]
    assert row["holders"] == [user("department_head1")]
    before = {p["username"]: p for p in workload(FEBRUARY)}.get("department_head1", {"open": 0, "overdue": 0})
    assert before["open"] >= 1
    assert before["overdue"] >= 1
    assert sum(u["open"] for u in workload(FEBRUARY, by="unit")) >= 3


def test_incidents_list_error_and_suspended(demo: None) -> None:
    broken = make_case(started=at("2026-02-09"), status=ProcessInstance.Status.ERROR)
    paused = make_case(started=at("2026-02-09"), status=ProcessInstance.Status.SUSPENDED)
    make_case(started=at("2026-02-09"))
    assert set(incidents(FEBRUARY)) == {broken, paused}
    assert HumanTask.objects.count() >= 0


def test_workload_per_unit_counts_each_units_open_and_late_tasks(demo: None) -> None:
    from django.utils import timezone

    from backend.accounts.models import OrgUnit

    def totals(filters: Filters) -> dict[str, dict]:
        return {row["name"]: row for row in workload(filters, by="unit")}

    anatomy = OrgUnit.objects.get(code="dept-anatomy")
    only_anatomy = Filters(start=FEBRUARY.start, end=FEBRUARY.end, unit_ids=frozenset([anatomy.pk]))
    before, before_scoped = totals(FEBRUARY), totals(only_anatomy)
    now = timezone.now()
    case = make_case(started=now - hours(100), department="dept-anatomy")
    make_task(case, "head_visa", created=now - hours(50), due=now - hours(2))
    make_task(case, "curation_visa", created=now - hours(1), due=now + hours(40))
    other = make_case(started=now - hours(100), department="dept-chemistry")
    make_task(other, "head_visa", created=now - hours(50), due=now - hours(2))
    facts_refresh()
    after, after_scoped = totals(FEBRUARY), totals(only_anatomy)
    gained = {
        name: (
            row["open"] - before.get(name, {}).get("open", 0),
            row["overdue"] - before.get(name, {}).get("overdue", 0),
        )
        for name, row in after.items()
    }
    assert sorted(g for g in gained.values() if g != (0, 0)) == [(1, 1), (2, 1)]
    [name] = after_scoped
    assert (after_scoped[name]["open"] - before_scoped.get(name, {}).get("open", 0)) == 2
    assert (after_scoped[name]["overdue"] - before_scoped.get(name, {}).get("overdue", 0)) == 1
