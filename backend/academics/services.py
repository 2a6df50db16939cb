"""Writes to academic records."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .grading import Scale, grade_for
from .models import AcademicPeriod, Discipline, FinalGrade, Journal, Student


@transaction.atomic
def final_grade_record(
    *,
    student: Student,
    discipline: Discipline,
    period: AcademicPeriod,
    points: Decimal,
    attempt: int = 1,
    scale: Scale | None = None,
) -> FinalGrade:
    """Record (or correct) one attempt's final grade; letter and grade points come from the scale."""
    grade = grade_for(points, scale)
    record, _created = FinalGrade.objects.update_or_create(
        student=student,
        discipline=discipline,
        attempt=attempt,
        defaults={
            "period": period,
            "points": points,
            "letter": grade.letter,
            "grade_point": grade.grade_point,
            "is_passing": grade.is_passing,
            "credits": discipline.credits,
            "is_retake": attempt > 1,
        },
    )
    return record


@transaction.atomic
def journal_close(*, journal: Journal) -> Journal:
    journal = Journal.objects.select_for_update().get(pk=journal.pk)
    journal.status = Journal.Status.CLOSED
    journal.closed_at = timezone.now()
    journal.save(update_fields=["status", "closed_at", "updated_at"])
    return journal
