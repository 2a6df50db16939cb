"""Import from the AIS (CSV or XLSX): every bad row reported with its number and reason, all or nothing."""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.accounts.models import OrgUnit, iin_validator
from backend.core.exceptions import ValidationFailed

from .grading import Scale, default_scale
from .models import AcademicPeriod, Discipline, FinalGrade, Specialty, Student, StudyForm, StudyGroup


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ImportRejected(ValidationFailed):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(
            _("%(count)s rows are invalid; nothing was imported.") % {"count": len({e.row for e in errors})},
            code="import_rejected",
            fields={f"row {e.row}": [f"{e.column}: {e.message}"] for e in errors},
        )


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


class _RowInvalid(Exception):
    def __init__(self, column: str, message: Any) -> None:
        self.column, self.message = column, str(message)


def _required(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise _RowInvalid(column, _("This field is required."))
    return value


def _integer(row: dict[str, str], column: str, low: int, high: int) -> int:
    raw = _required(row, column)
    try:
        value = int(raw)
    except ValueError:
        raise _RowInvalid(column, _("“%(value)s” is not a whole number.") % {"value": raw}) from None
    if not low <= value <= high:
        raise _RowInvalid(column, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return value


def _lookup(cache: dict[str, Any], row: dict[str, str], column: str, what: Any) -> Any:
    key = _required(row, column)
    if key not in cache:
        raise _RowInvalid(column, _("Unknown %(what)s “%(value)s”.") % {"what": what, "value": key})
    return cache[key]


def _choice(row: dict[str, str], column: str, choices: Iterable[str]) -> str:
    value = _required(row, column)
    allowed = list(choices)
    if value not in allowed:
        raise _RowInvalid(column, _("Must be one of: %(choices)s.") % {"choices": ", ".join(allowed)})
    return value


class Importer(ABC):
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @abstractmethod
    def prepare(self) -> None:
        """Load what rows refer to, once, so validation costs no query per row."""

    @abstractmethod
    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        """The row's values, typed and resolved; raises _RowInvalid naming the column."""

    @abstractmethod
    def key(self, cleaned: dict[str, Any]) -> tuple[Any, ...]:
        """What identifies the record, so a file cannot list one record twice."""

    @abstractmethod
    def save(self, cleaned: dict[str, Any]) -> bool:
        """Create or update one record; True when created."""


class GroupImporter(Importer):
    required = (
        "name",
        "specialty_code",
        "course",
        "study_form",
        "duration_years",
        "language",
        "admission_year",
    )

    def key(self, cleaned: dict[str, Any]) -> tuple[Any, ...]:
        return (cleaned["name"],)

    def prepare(self) -> None:
        self.specialties = {s.code: s for s in Specialty.objects.all()}

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        return {
            "name": _required(row, "name"),
            "specialty": _lookup(self.specialties, row, "specialty_code", gettext_lazy("specialty")),
            "course": _integer(row, "course", 1, 7),
            "study_form": _choice(row, "study_form", StudyForm.values),
            "duration_years": _integer(row, "duration_years", 1, 8),
            "language": _choice(row, "language", ["kk", "ru", "en"]),
            "admission_year": _integer(row, "admission_year", 1990, 2100),
        }

    def save(self, cleaned: dict[str, Any]) -> bool:
        name = cleaned.pop("name")
        return StudyGroup.objects.update_or_create(name=name, defaults=cleaned)[1]


class StudentImporter(Importer):
    required = ("student_id", "iin", "last_name", "first_name", "group")
    optional = ("patronymic", "status", "email")

    def key(self, cleaned: dict[str, Any]) -> tuple[Any, ...]:
        return (cleaned["student_id"],)

    def prepare(self) -> None:
        self.groups = {g.name: g for g in StudyGroup.objects.all()}
        self.iin_owner = dict(Student.objects.values_list("iin", "student_id"))

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        student_id = _required(row, "student_id")
        iin = _required(row, "iin")
        try:
            iin_validator(iin)
        except ValidationError as exc:
            raise _RowInvalid("iin", exc.messages[0]) from None
        owner = self.iin_owner.get(iin)
        if owner and owner != student_id:
            raise _RowInvalid("iin", _("This IIN belongs to student %(id)s.") % {"id": owner})
        email = (row.get("email") or "").strip()
        if email and "@" not in email:
            raise _RowInvalid("email", _("Enter a valid e-mail address."))
        status = (row.get("status") or "").strip() or Student.Status.STUDYING
        if status not in Student.Status.values:
            raise _RowInvalid(
                "status", _("Must be one of: %(choices)s.") % {"choices": ", ".join(Student.Status.values)}
            )
        return {
            "student_id": student_id,
            "iin": iin,
            "last_name": _required(row, "last_name"),
            "first_name": _required(row, "first_name"),
            "patronymic": (row.get("patronymic") or "").strip(),
            "group": _lookup(self.groups, row, "group", gettext_lazy("group")),
            "status": status,
            "email": email,
        }

    def save(self, cleaned: dict[str, Any]) -> bool:
        student_id = cleaned.pop("student_id")
        return Student.objects.update_or_create(student_id=student_id, defaults=cleaned)[1]


class DisciplineImporter(Importer):
    required = ("code", "name_kk", "name_ru", "kind", "credits", "department_code")
    optional = ("name_en", "parent_code")

    def key(self, cleaned: dict[str, Any]) -> tuple[Any, ...]:
        return (cleaned["code"],)

    def prepare(self) -> None:
        self.departments = {u.code: u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT)}
        self.known_codes = set(Discipline.objects.values_list("code", flat=True))
        self.file_codes: set[str] = set()

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        kind = _choice(row, "kind", Discipline.Kind.values)
        parent_code = (row.get("parent_code") or "").strip()
        needs_parent = kind in (Discipline.Kind.BLOCK, Discipline.Kind.MODULAR)
        if needs_parent and not parent_code:
            raise _RowInvalid("parent_code", _("A block or modular discipline names the discipline it belongs to."))
        if not needs_parent and parent_code:
            raise _RowInvalid("parent_code", _("Only blocks and modular disciplines belong to another one."))
        if parent_code and parent_code not in self.known_codes | self.file_codes:
            raise _RowInvalid(
                "parent_code",
                _("Unknown discipline “%(value)s” (list parents first).") % {"value": parent_code},
            )
        cleaned = {
            "code": _required(row, "code"),
            "name_kk": _required(row, "name_kk"),
            "name_ru": _required(row, "name_ru"),
            "name_en": (row.get("name_en") or "").strip(),
            "kind": kind,
            "parent_code": parent_code,
            "credits": _integer(row, "credits", 0, 60),
            "department": _lookup(self.departments, row, "department_code", gettext_lazy("department")),
        }
        self.file_codes.add(cleaned["code"])
        return cleaned

    def save(self, cleaned: dict[str, Any]) -> bool:
        code = cleaned.pop("code")
        parent_code = cleaned.pop("parent_code")
        cleaned["parent"] = Discipline.objects.get(code=parent_code) if parent_code else None
        return Discipline.objects.update_or_create(code=code, defaults=cleaned)[1]


class GradeImporter(Importer):
    required = ("student_id", "discipline_code", "academic_year", "term", "points")
    optional = ("attempt",)

    def key(self, cleaned: dict[str, Any]) -> tuple[Any, ...]:
        return (cleaned["student"].pk, cleaned["discipline"].pk, cleaned["attempt"])

    def prepare(self) -> None:
        self.students = {s.student_id: s for s in Student.objects.all()}
        self.disciplines = {d.code: d for d in Discipline.objects.all()}
        self.periods = {f"{p.academic_year}/{p.term}": p for p in AcademicPeriod.objects.all()}
        self.scale: Scale = default_scale()

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        student = _lookup(self.students, row, "student_id", gettext_lazy("student"))
        discipline = _lookup(self.disciplines, row, "discipline_code", gettext_lazy("discipline"))
        period_key = f"{_required(row, 'academic_year')}/{_required(row, 'term')}"
        if period_key not in self.periods:
            raise _RowInvalid("academic_year", _("Unknown academic period %(value)s.") % {"value": period_key})
        raw = _required(row, "points")
        try:
            points = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise _RowInvalid("points", _("“%(value)s” is not a number.") % {"value": raw}) from None
        grade = self.scale.grade(points)
        if grade is None:
            raise _RowInvalid(
                "points",
                _("Must be between %(low)s and %(high)s.")
                % {"low": self.scale.min_points, "high": self.scale.max_points},
            )
        attempt = _integer(row, "attempt", 1, 9) if (row.get("attempt") or "").strip() else 1
        return {
            "student": student,
            "discipline": discipline,
            "period": self.periods[period_key],
            "points": points,
            "attempt": attempt,
            "grade": grade,
        }

    def save(self, cleaned: dict[str, Any]) -> bool:
        grade = cleaned["grade"]
        return FinalGrade.objects.update_or_create(
            student=cleaned["student"],
            discipline=cleaned["discipline"],
            attempt=cleaned["attempt"],
            defaults={
                "period": cleaned["period"],
                "points": cleaned["points"],
                "letter": grade.letter,
                "grade_point": grade.grade_point,
                "is_passing": grade.is_passing,
                "credits": cleaned["discipline"].credits,
                "is_retake": cleaned["attempt"] > 1,
            },
        )[1]


IMPORTERS: dict[str, Callable[[], Importer]] = {
    "groups": GroupImporter,
    "students": StudentImporter,
    "disciplines": DisciplineImporter,
    "grades": GradeImporter,
}


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (comma or semicolon, UTF-8 with or without BOM) or XLSX file, keyed by header."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        assert sheet is not None  # noqa: S101 - a workbook always has an active sheet
        values = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    else:
        text = path.read_text(encoding="utf-8-sig")
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
        values = list(csv.reader(io.StringIO(text), dialect))
    if not values:
        return []
    header = [h.strip() for h in values[0]]
    return [dict(zip(header, row, strict=False)) for row in values[1:] if any(cell.strip() for cell in row)]


def records_import(*, kind: str, rows: list[dict[str, str]]) -> ImportResult:
    """Validate every row first; import all of them in one transaction, or none."""
    if kind not in IMPORTERS:
        raise ValidationFailed(_("Unknown kind %(kind)s.") % {"kind": kind}, fields={"kind": [_("Unknown kind.")]})
    importer = IMPORTERS[kind]()
    missing = [c for c in importer.required if rows and c not in rows[0]]
    if missing:
        raise ValidationFailed(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}, code="missing_columns"
        )
    importer.prepare()
    errors: list[RowError] = []
    cleaned_rows: list[dict[str, Any]] = []
    seen_keys: dict[tuple[Any, ...], int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            cleaned = importer.clean(row)
        except _RowInvalid as exc:
            errors.append(RowError(number, exc.column, exc.message))
            continue
        key = importer.key(cleaned)
        if key in seen_keys:
            errors.append(RowError(number, importer.required[0], _("Repeats row %(row)s.") % {"row": seen_keys[key]}))
            continue
        seen_keys[key] = number
        cleaned_rows.append(cleaned)
    if errors:
        raise ImportRejected(errors)
    created = 0
    with transaction.atomic():
        for cleaned in cleaned_rows:
            created += importer.save(cleaned)
    return ImportResult(created=created, updated=len(cleaned_rows) - created)
