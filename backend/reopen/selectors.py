"""Reads of the journal reopen procedure: eligible journals, requests a person may see, counts, reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from backend.academics.models import AcademicPeriod, Journal
from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import descendants, units_where, user_has_role
from backend.workflow.models import ProcessInstance

from .models import ReasonCategory, ReopenRequest

OVERSEERS = (Role.REGISTRAR_HEAD, Role.REGISTRAR_INSPECTOR, Role.REGISTRAR_STAFF, Role.VICE_RECTOR, Role.AUDITOR)


def reopen_active_for(journals: Iterable[Journal]) -> bool:
    """Whether one of these journals already has a request under way."""
    return ReopenRequest.objects.filter(
        journals__in=list(journals),
        instance__status__in=[
            ProcessInstance.Status.RUNNING,
            ProcessInstance.Status.SUSPENDED,
            ProcessInstance.Status.ERROR,
        ],
    ).exists()


def journals_to_reopen(teacher: User) -> QuerySet[Journal]:
    """The teacher's closed journals, newest closing first."""
    return (
        Journal.objects.filter(teacher=teacher, status=Journal.Status.CLOSED)
        .select_related("discipline", "group__specialty", "period")
        .order_by("-closed_at")
    )


def counts_for(request: ReopenRequest) -> tuple[int, int]:
    """How many times the teacher's and the department's journals were reopened this academic year."""
    opened = ReopenRequest.objects.filter(academic_year=request.academic_year, window_opened_at__isnull=False)
    return (
        opened.filter(teacher=request.teacher).count(),
        opened.filter(department=request.department).count(),
    )


def requests_for(user: User) -> QuerySet[ReopenRequest]:
    """Requests the user may see: their own; their department's or school's; all for the Registrar office."""
    requests = ReopenRequest.objects.select_related(
        "instance", "teacher", "department", "discipline", "group", "period"
    )
    if user.is_superuser or user_has_role(user, *OVERSEERS):
        return requests
    units = descendants(units_where(user, Role.DEPARTMENT_HEAD, Role.DEAN_CURATION, Role.SCHOOL_DEAN))
    return requests.filter(Q(teacher=user) | Q(department_id__in=units) | Q(group__specialty__school_id__in=units))


@dataclass(frozen=True)
class ReportRow:
    label: str
    count: int
    late: int


@dataclass(frozen=True)
class SemesterReport:
    period: AcademicPeriod
    total: int
    by_department: list[ReportRow]
    by_teacher: list[ReportRow]
    by_reason: list[ReportRow]


def semester_report(period: AcademicPeriod) -> SemesterReport:
    """Reopens in a semester (journals actually reopened) per department, teacher and reason."""
    reopened = list(
        ReopenRequest.objects.filter(period=period, window_opened_at__isnull=False).select_related(
            "department", "teacher"
        )
    )

    def rows(key: str) -> list[ReportRow]:
        counts: Counter[str] = Counter()
        late: Counter[str] = Counter()
        for request in reopened:
            label = {
                "department": lambda r: r.department.name,
                "teacher": lambda r: r.teacher.full_name,
                "reason": lambda r: str(ReasonCategory(r.reason_category).label),
            }[key](request)
            counts[label] += 1
            late[label] += request.late
        return [ReportRow(label, count, late[label]) for label, count in counts.most_common()]

    return SemesterReport(
        period=period,
        total=len(reopened),
        by_department=rows("department"),
        by_teacher=rows("teacher"),
        by_reason=rows("reason"),
    )
