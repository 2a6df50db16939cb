"""Import from the AIS: every bad row reported with its number and reason; all rows or none."""

import csv
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from backend.academics.importing import ImportRejected, read_table, records_import
from backend.academics.models import Discipline, FinalGrade, Student, StudyGroup
from backend.core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

STUDENT_COLUMNS = ["student_id", "iin", "last_name", "first_name", "patronymic", "group", "status", "email"]


def student_rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "student_id": f"IMP{n:05d}",
            "iin": f"{880000000000 + n}",
            "last_name": "Әбілқасымова",
            "first_name": "Гүлнәр",
            "patronymic": "Серікқызы",
            "group": "ЖМ-24-01",
            "status": "studying",
            "email": f"imp{n}@example.kz",
        }
        for n in range(count)
    ]


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_three_bad_rows_among_a_thousand_are_reported_exactly_and_nothing_is_imported(
    demo: None, tmp_path: Path
) -> None:
    rows = student_rows(1000)
    rows[10]["iin"] = "12345"  # file row 12: too short
    rows[500]["group"] = "NO-SUCH"  # file row 502: unknown group
    rows[998]["student_id"] = rows[3]["student_id"]  # file row 1000: repeats row 5
    path = write_csv(tmp_path / "students.csv", rows, delimiter=";")
    before = Student.objects.count()

    with pytest.raises(ImportRejected) as rejected:
        records_import(kind="students", rows=read_table(path))

    assert [(e.row, e.column) for e in rejected.value.errors] == [
        (12, "iin"),
        (502, "group"),
        (1000, "student_id"),
    ]
    assert "12 digits" in rejected.value.errors[0].message
    assert "NO-SUCH" in rejected.value.errors[1].message
    assert "row 5" in rejected.value.errors[2].message
    assert Student.objects.count() == before


def test_the_command_prints_each_bad_row_and_exits_non_zero(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = student_rows(5)
    rows[1]["iin"] = "abc"
    path = write_csv(tmp_path / "students.csv", rows)
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_records", "students", str(path))
    assert "row 3, iin" in capsys.readouterr().err
    assert not Student.objects.filter(student_id__startswith="IMP").exists()


def test_a_good_file_imports_and_a_second_run_updates(demo: None, tmp_path: Path) -> None:
    rows = student_rows(3)
    result = records_import(kind="students", rows=read_table(write_csv(tmp_path / "s.csv", rows)))
    assert (result.created, result.updated) == (3, 0)
    rows[0]["last_name"] = "Жаңа"
    result = records_import(kind="students", rows=read_table(write_csv(tmp_path / "s.csv", rows)))
    assert (result.created, result.updated) == (0, 3)
    assert Student.objects.get(student_id="IMP00000").last_name == "Жаңа"


def test_groups_disciplines_and_grades_import_from_xlsx(demo: None, tmp_path: Path) -> None:
    def xlsx(name: str, header: list[str], rows: list[list[object]]) -> Path:
        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(tmp_path / name)
        return tmp_path / name

    records_import(
        kind="groups",
        rows=read_table(
            xlsx(
                "g.xlsx",
                [
                    "name",
                    "specialty_code",
                    "course",
                    "study_form",
                    "duration_years",
                    "language",
                    "admission_year",
                ],
                [["ЖМ-25-09", "6B10101", 2, "full_time", 5, "kk", 2025]],
            )
        ),
    )
    records_import(
        kind="disciplines",
        rows=read_table(
            xlsx(
                "d.xlsx",
                [
                    "code",
                    "name_kk",
                    "name_ru",
                    "name_en",
                    "kind",
                    "parent_code",
                    "credits",
                    "department_code",
                ],
                [
                    ["MOD 9000", "Модуль", "Модуль", "Module", "module", "", 10, "dept-anatomy"],
                    [
                        "MOD 9001",
                        "Модульдік пән",
                        "Модульная дисциплина",
                        "Modular",
                        "modular",
                        "MOD 9000",
                        5,
                        "dept-anatomy",
                    ],
                ],
            )
        ),
    )
    records_import(
        kind="grades",
        rows=read_table(
            xlsx(
                "r.xlsx",
                ["student_id", "discipline_code", "academic_year", "term", "points", "attempt"],
                [[Student.objects.first().student_id, "MOD 9001", "2025-2026", 1, "87,5", 1]],
            )
        ),
    )
    assert StudyGroup.objects.filter(name="ЖМ-25-09", course=2).exists()
    assert Discipline.objects.get(code="MOD 9001").parent.code == "MOD 9000"
    grade = FinalGrade.objects.get(discipline__code="MOD 9001")
    assert (grade.letter, str(grade.points)) == ("B+", "87.50")


def test_grade_rows_outside_the_scale_or_for_unknown_periods_are_refused(demo: None, tmp_path: Path) -> None:
    student_id = Student.objects.first().student_id
    rows = [
        {
            "student_id": student_id,
            "discipline_code": "ANT 1102",
            "academic_year": "2024-2025",
            "term": "1",
            "points": "101",
            "attempt": "1",
        },
        {
            "student_id": student_id,
            "discipline_code": "ANT 1102",
            "academic_year": "1999-2000",
            "term": "1",
            "points": "80",
            "attempt": "1",
        },
    ]
    with pytest.raises(ImportRejected) as rejected:
        records_import(kind="grades", rows=rows)
    assert [(e.row, e.column) for e in rejected.value.errors] == [(2, "points"), (3, "academic_year")]


def test_missing_columns_are_named(demo: None) -> None:
    with pytest.raises(ValidationFailed, match="Missing columns: iin"):
        records_import(kind="students", rows=[{"student_id": "1", "last_name": "A", "first_name": "B", "group": "x"}])
