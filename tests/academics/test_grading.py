"""Letters, grade points and GPA against hand-computed cases."""

from datetime import date
from decimal import Decimal

import pytest

from backend.academics.grading import default_scale, gpa, grade_for
from backend.academics.models import FinalGrade
from backend.academics.selectors import student_transcript
from backend.academics.services import final_grade_record
from backend.core.exceptions import ValidationFailed
from tests.factories import AcademicPeriodFactory, DisciplineFactory, JournalFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("points", "letter", "grade_point"),
    [
        ("100", "A", "4.00"),
        ("95", "A", "4.00"),
        ("94", "A-", "3.67"),
        ("94.5", "A-", "3.67"),
        ("90", "A-", "3.67"),
        ("89", "B+", "3.33"),
        ("80", "B", "3.00"),
        ("75", "B-", "2.67"),
        ("70", "C+", "2.33"),
        ("65", "C", "2.00"),
        ("60", "C-", "1.67"),
        ("55", "D+", "1.33"),
        ("50", "D", "1.00"),
        ("49", "FX", "0.00"),
        ("24", "F", "0.00"),
        ("0", "F", "0.00"),
    ],
)
def test_points_map_to_the_letter_scale_of_order_152(points: str, letter: str, grade_point: str) -> None:
    grade = grade_for(Decimal(points))
    assert (grade.letter, grade.grade_point) == (letter, Decimal(grade_point))
    assert grade.is_passing == (Decimal(points) >= 50)


def test_points_outside_the_scale_are_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        grade_for(Decimal(101))
    assert "points" in error.value.fields


def test_gpa_is_credit_weighted_and_rounded_half_up() -> None:
    # (5×4.00 + 3×3.33 + 4×2.00) / 12 = 37.99 / 12 = 3.1658… → 3.17
    assert gpa([(5, Decimal("4.00")), (3, Decimal("3.33")), (4, Decimal("2.00"))]) == Decimal("3.17")
    assert gpa([]) == Decimal("0.00")


def test_a_passed_retake_replaces_the_failed_attempt_in_the_transcript_and_gpa() -> None:
    student = StudentFactory()
    autumn = AcademicPeriodFactory(
        academic_year="2030-2031", term=1, starts_on=date(2030, 9, 1), ends_on=date(2031, 1, 10)
    )
    summer = AcademicPeriodFactory(
        academic_year="2030-2031", term=3, starts_on=date(2031, 6, 15), ends_on=date(2031, 8, 1)
    )
    anatomy = DisciplineFactory(credits=6)
    latin = DisciplineFactory(credits=3)
    final_grade_record(student=student, discipline=anatomy, period=autumn, points=Decimal(40))  # FX
    final_grade_record(student=student, discipline=anatomy, period=summer, points=Decimal(72), attempt=2)  # C+
    final_grade_record(student=student, discipline=latin, period=autumn, points=Decimal(91))  # A-

    transcript = student_transcript(student)

    rows = {row.code: row for row in transcript.rows}
    assert len(rows) == 2
    assert (rows[anatomy.code].letter, rows[anatomy.code].is_retake) == ("C+", True)
    assert (rows[latin.code].letter, rows[latin.code].is_retake) == ("A-", False)
    # (6×2.33 + 3×3.67) / 9 = (13.98 + 11.01) / 9 = 2.7766… → 2.78
    assert transcript.gpa == Decimal("2.78")
    assert transcript.total_credits == 9
    assert [p.period for p in transcript.periods] == [autumn, summer]
    assert transcript.problems == []


def test_a_failed_attempt_without_a_passed_retake_counts_with_zero_points() -> None:
    student = StudentFactory()
    period = AcademicPeriodFactory()
    failed = DisciplineFactory(credits=4)
    passed = DisciplineFactory(credits=4)
    final_grade_record(student=student, discipline=failed, period=period, points=Decimal(30))
    final_grade_record(student=student, discipline=passed, period=period, points=Decimal(100))
    # (4×0 + 4×4) / 8 = 2.00
    assert student_transcript(student).gpa == Decimal("2.00")


def test_data_problems_are_reported_not_skipped() -> None:
    student = StudentFactory()
    period = AcademicPeriodFactory(
        academic_year="2020-2021", term=1, starts_on=date(2020, 9, 1), ends_on=date(2021, 1, 10)
    )
    graded = DisciplineFactory()
    final_grade_record(student=student, discipline=graded, period=period, points=Decimal(80))
    # Outside the scale (e.g. imported before the scale changed): shown with a problem.
    FinalGrade.objects.filter(student=student).update(points=Decimal(120))
    # The group studied a discipline that has no final grade for this student.
    missing = JournalFactory(group=student.group, period=period).discipline

    transcript = student_transcript(student)

    assert len(transcript.rows) == 1
    assert transcript.rows[0].letter == "?"
    assert any("120" in p and "outside" in p for p in transcript.problems)
    assert any(missing.name in p and "no final grade" in p for p in transcript.problems)


def test_chosen_periods_only(demo: None) -> None:
    from backend.academics.models import AcademicPeriod, Student

    student = Student.objects.get(student_id__endswith="0001")
    first = AcademicPeriod.objects.get(academic_year="2024-2025", term=1)
    transcript = student_transcript(student, period_ids={first.pk})
    assert {p.period for p in transcript.periods} == {first}
    assert len(transcript.rows) == 5
    assert default_scale().grade(Decimal(50)) is not None
