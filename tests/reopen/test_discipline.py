"""Disciplinary measures by how many times journals were reopened in the academic year (RU SOP term 20)."""

import pytest

from backend.academics.models import Journal
from backend.reopen.discipline import department_measure, teacher_measure
from backend.reopen.models import ReopenRequest
from tests.reopen.test_procedure import act, approve_visas, start


@pytest.mark.parametrize(
    ("count", "measure"), [(1, "oral_warning"), (2, "remark"), (3, "remark"), (4, "reprimand"), (7, "reprimand")]
)
def test_teacher_thresholds(count: int, measure: str) -> None:
    assert teacher_measure(count) == measure


@pytest.mark.parametrize(
    ("count", "measure"), [(1, "oral_warning"), (2, "oral_warning"), (3, "remark"), (5, "remark"), (6, "reprimand")]
)
def test_department_thresholds(count: int, measure: str) -> None:
    assert department_measure(count) == measure


def reopen_completely(journal: Journal, teacher: str) -> ReopenRequest:
    instance = start(journal, teacher)
    approve_visas(instance["id"])
    act(instance["id"], teacher, "corrections", done=True)
    act(instance["id"], "registrar_inspector1", "accept_sheet", accepted=True)
    request = ReopenRequest.objects.get(instance_id=instance["id"])
    act(
        instance["id"],
        "school_dean1",
        "dean_discipline",
        teacher_measure=request.proposed_teacher_measure,
        department_measure=request.proposed_department_measure,
        reference="№ 5",
        reference_date="2026-11-26",
    )
    return request


@pytest.mark.django_db
def test_the_process_counts_reopens_per_teacher_and_department_for_the_year(demo: None) -> None:
    teacher1 = list(
        Journal.objects.filter(
            teacher__username="teacher1", status="closed", period__academic_year="2026-2027"
        ).order_by("pk")
    )
    teacher2 = list(
        Journal.objects.filter(
            teacher__username="teacher2", status="closed", period__academic_year="2026-2027"
        ).order_by("pk")
    )
    runs = [(j, "teacher1") for j in teacher1[:4]] + [(j, "teacher2") for j in teacher2[:2]]
    seen = []
    for journal, teacher in runs:
        request = reopen_completely(journal, teacher)
        seen.append(
            (
                teacher,
                request.teacher_count,
                request.proposed_teacher_measure,
                request.department_count,
                request.proposed_department_measure,
            )
        )
    assert seen == [
        ("teacher1", 1, "oral_warning", 1, "oral_warning"),
        ("teacher1", 2, "remark", 2, "oral_warning"),
        ("teacher1", 3, "remark", 3, "remark"),
        ("teacher1", 4, "reprimand", 4, "remark"),
        ("teacher2", 1, "oral_warning", 5, "remark"),
        ("teacher2", 2, "remark", 6, "reprimand"),
    ]
