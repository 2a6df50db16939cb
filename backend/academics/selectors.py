"""Reads of academic records: a student's transcript with GPA, a teacher's journals."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .grading import Scale, default_scale, gpa
from .models import AcademicPeriod, FinalGrade, Journal, Student


@dataclass(frozen=True)
class TranscriptRow:
    code: str
    name: str
    credits: int
    points: Decimal
    letter: str
    grade_point: Decimal
    is_retake: bool
    is_passing: bool


@dataclass
class TranscriptPeriod:
    period: AcademicPeriod
    rows: list[TranscriptRow] = field(default_factory=list)

    @property
    def credits(self) -> int:
        return sum(r.credits for r in self.rows)

    @property
    def gpa(self) -> Decimal:
        return gpa((r.credits, r.grade_point) for r in self.rows)


@dataclass
class Transcript:
    student: Student
    periods: list[TranscriptPeriod]
    problems: list[str]

    @property
    def rows(self) -> list[TranscriptRow]:
        return [row for p in self.periods for row in p.rows]

    @property
    def total_credits(self) -> int:
        return sum(p.credits for p in self.periods)

    @property
    def gpa(self) -> Decimal:
        return gpa((r.credits, r.grade_point) for r in self.rows)


def counted_grades(grades: list[FinalGrade]) -> list[FinalGrade]:
    """One grade per discipline: a passed retake replaces the failed attempt; otherwise the latest attempt."""
    by_discipline: dict[int, list[FinalGrade]] = {}
    for grade in grades:
        by_discipline.setdefault(grade.discipline_id, []).append(grade)
    counted = []
    for attempts in by_discipline.values():
        attempts.sort(key=lambda g: g.attempt)
        passing = [g for g in attempts if g.is_passing]
        counted.append(passing[-1] if passing else attempts[-1])
    return counted


def student_transcript(
    student: Student,
    *,
    period_ids: Collection[int] | None = None,
    language: str | None = None,
    scale: Scale | None = None,
) -> Transcript:
    """Every final grade of the chosen periods (all of them by default), grouped by period, with problems.

    Points outside the grading scale and disciplines the group studied without a final grade are reported
    in `problems`, never silently skipped.
    """
    scale = scale or default_scale()
    grades = list(FinalGrade.objects.filter(student=student).select_related("discipline", "period").order_by("attempt"))
    problems: list[str] = []
    by_period: dict[int, TranscriptPeriod] = {}
    for grade in sorted(counted_grades(grades), key=lambda g: (g.period.starts_on, g.discipline.code)):
        if period_ids is not None and grade.period_id not in period_ids:
            continue
        name = grade.discipline.name_in(language)
        band = scale.grade(grade.points)
        if band is None:
            problems.append(
                _("%(discipline)s: %(points)s points are outside the grading scale (%(low)s–%(high)s).")
                % {
                    "discipline": name,
                    "points": grade.points,
                    "low": scale.min_points,
                    "high": scale.max_points,
                }
            )
            letter, grade_point, passing = "?", Decimal("0.00"), False
        else:
            letter, grade_point, passing = band.letter, band.grade_point, band.is_passing
            if (band.letter, band.grade_point) != (grade.letter, grade.grade_point):
                problems.append(
                    _("%(discipline)s: the stored letter %(stored)s does not match %(points)s points (%(letter)s).")
                    % {
                        "discipline": name,
                        "stored": grade.letter,
                        "points": grade.points,
                        "letter": band.letter,
                    }
                )
        by_period.setdefault(grade.period_id, TranscriptPeriod(grade.period)).rows.append(
            TranscriptRow(
                code=grade.discipline.code,
                name=name,
                credits=grade.credits,
                points=grade.points,
                letter=letter,
                grade_point=grade_point,
                is_retake=grade.is_retake,
                is_passing=passing,
            )
        )
    graded = {g.discipline_id for g in grades}
    finished = (
        Journal.objects.filter(group=student.group, period__ends_on__lt=timezone.localdate())
        .exclude(discipline_id__in=graded)
        .select_related("discipline", "period")
        .order_by("period__starts_on", "discipline__code")
    )
    if period_ids is not None:
        finished = finished.filter(period_id__in=period_ids)
    seen: set[int] = set()
    for journal in finished:
        if journal.discipline_id in seen:
            continue
        seen.add(journal.discipline_id)
        problems.append(
            _("%(discipline)s (%(period)s): the group studied it but there is no final grade.")
            % {"discipline": journal.discipline.name_in(language), "period": journal.period.title(language)}
        )
    periods = sorted(by_period.values(), key=lambda p: p.period.starts_on)
    return Transcript(student=student, periods=periods, problems=problems)


def teacher_journals(teacher_id: int) -> QuerySet[Journal]:
    return Journal.objects.filter(teacher_id=teacher_id).select_related("discipline", "group", "period")
