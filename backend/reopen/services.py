"""Writes of the journal reopen procedure: checking a request, the access window, grade changes, counting.

The diagram (bpmn/journal_reopen.bpmn) decides the order; its script tasks call the helpers at the bottom
of this module, which call these services for the running case.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from backend.academics.grading import default_scale
from backend.academics.models import Journal, JournalMark, LessonType, Student
from backend.accounts.models import User
from backend.core.exceptions import Conflict, Forbidden, ValidationFailed
from backend.core.models import in_each_language
from backend.core.workdays import add_days, add_working_days
from backend.documents.letterhead import format_date, format_datetime, letterhead
from backend.documents.services import document_request
from backend.signatures.sheet import sheet_rows
from backend.workflow.models import ProcessInstance
from backend.workflow.registry import ProcessHooks, StartSpec, register_process
from backend.workflow.scripting import InstanceContext, register_helper

from . import discipline
from .models import GradeChange, Measure, ReopenRequest
from .selectors import counts_for, reopen_active_for

PROCESS_KEY = "journal_reopen"
# The SOP's deadline for the note: within 2 (working) days of the journal's closing.
NOTE_DEADLINE_WORKING_DAYS = 2


def _subject(journal: Journal, teacher: User, *, late: bool) -> dict[str, str]:
    def subject(language: str) -> str:
        text = _("Reopen: %(discipline)s, group %(group)s — %(teacher)s") % {
            "discipline": journal.discipline.name_in(language),
            "group": journal.group.name,
            "teacher": teacher.short_name,
        }
        return _("%(subject)s (late)") % {"subject": text} if late else text

    return in_each_language(subject)


def reopen_start_prepare(
    *,
    user: User,
    journal: int,
    wrong_entry_date: date,
    reason_category: str,
    reason: str,
    lesson_types: list[str] | None = None,
) -> StartSpec:
    """Check a teacher's request (the start form's values) against the records: their own closed journal,
    named lesson types, dates."""
    found = (
        Journal.objects.select_related("discipline__department__parent", "group__specialty__school", "period")
        .filter(pk=journal)
        .first()
    )
    if found is None or found.teacher_id != user.pk:
        raise ValidationFailed(
            _("You can ask to reopen only your own journals."),
            fields={"journal": [_("Choose one of your own journals.")]},
        )
    if found.status != Journal.Status.CLOSED:
        raise ValidationFailed(
            _("This journal is not closed, so it needs no reopening."),
            fields={"journal": [_("The journal is not closed.")]},
        )
    siblings = Journal.objects.filter(
        teacher=user,
        discipline=found.discipline,
        group=found.group,
        period=found.period,
        status=Journal.Status.CLOSED,
    )
    available = {j.lesson_type: j for j in siblings}
    lesson_types = lesson_types or [found.lesson_type]
    unknown = [t for t in lesson_types if t not in available]
    if unknown:
        raise ValidationFailed(
            _("Name only lesson types of this discipline and group whose journals you keep and are closed."),
            fields={"lesson_types": [_("Not among your closed journals: %(types)s.") % {"types": ", ".join(unknown)}]},
        )
    journals = [available[t] for t in lesson_types]
    if reopen_active_for(journals):
        raise Conflict(_("A reopen request for this journal is already under way."))
    today = timezone.localdate()
    if not found.period.starts_on <= wrong_entry_date <= today:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"wrong_entry_date": [_("The date must fall within the journal's period and not in the future.")]},
        )
    closed_at = found.closed_at or timezone.now()
    deadline = add_working_days(closed_at, NOTE_DEADLINE_WORKING_DAYS)
    now = timezone.now()
    late = now > deadline
    late_days = max(1, (timezone.localtime(now).date() - timezone.localtime(deadline).date()).days) if late else 0
    department = found.discipline.department
    teacher_school = department.school()
    language = user.language if user.language in ("kk", "ru") else "ru"
    return StartSpec(
        data={
            "journal_id": found.pk,
            "journal_ids": [j.pk for j in journals],
            "lesson_types": lesson_types,
            "wrong_entry_date": wrong_entry_date.isoformat(),
            "reason_category": reason_category,
            "reason": reason,
            "late": late,
            "late_days": late_days,
            "department": department.code,
            "teacher_school": teacher_school.code if teacher_school else "",
            "student_school": found.group.school.code,
            "routing": settings.QUJAT_REOPEN_ROUTING,
            "language": language,
            "submissions": 0,
        },
        business_key=f"{found.discipline.code} {found.group.name}",
        subject=_subject(found, user, late=late),
    )


def reopen_request_create(instance: ProcessInstance, start: StartSpec) -> None:
    """The domain record of a started case (called inside the start transaction)."""
    data = start.data
    journal = Journal.objects.select_related("discipline", "period").get(pk=data["journal_id"])
    assert instance.started_by is not None  # noqa: S101 - a teacher started it
    request = ReopenRequest.objects.create(
        instance=instance,
        teacher=instance.started_by,
        department=journal.discipline.department,
        discipline=journal.discipline,
        group=journal.group,
        period=journal.period,
        academic_year=journal.period.academic_year,
        lesson_types=data["lesson_types"],
        wrong_entry_date=date.fromisoformat(data["wrong_entry_date"]),
        reason_category=data["reason_category"],
        reason=data["reason"],
        late=data["late"],
        late_days=data["late_days"],
    )
    request.journals.set(data["journal_ids"])


register_process(ProcessHooks(key=PROCESS_KEY, prepare_start=reopen_start_prepare, after_start=reopen_request_create))


# --- the access window -----------------------------------------------------------------------------------------


@transaction.atomic
def reopen_window_open(*, request: ReopenRequest, days: int, working: bool) -> ReopenRequest:
    """Reopen the named journals for the teacher alone, until the end of the window."""
    now = timezone.now()
    request.window_opened_at = now
    request.window_closes_at = add_days(now, days, working=working)
    request.save(update_fields=["window_opened_at", "window_closes_at"])
    request.journals.update(status=Journal.Status.REOPENED)
    return request


@transaction.atomic
def reopen_window_close(*, request: ReopenRequest, expired: bool) -> ReopenRequest:
    now = timezone.now()
    request.window_closed_at = now
    request.window_expired = expired
    request.save(update_fields=["window_closed_at", "window_expired"])
    request.journals.update(status=Journal.Status.CLOSED, closed_at=now)
    return request


def _check_mark(value: str) -> str:
    text = value.strip()
    scale = default_scale()
    allowed = set(scale.journal_marks)
    if text in allowed:
        return text
    try:
        points = Decimal(text.replace(",", "."))
    except InvalidOperation:
        points = None
    if points is None or not scale.min_points <= points <= scale.max_points:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={
                "value": [
                    _("Enter points from %(low)s to %(high)s or one of: %(marks)s.")
                    % {
                        "low": scale.min_points,
                        "high": scale.max_points,
                        "marks": ", ".join(sorted(allowed)),
                    }
                ]
            },
        )
    return text


@transaction.atomic
def journal_mark_change(
    *, request: ReopenRequest, journal_id: int, student_id: int, lesson_date: date, value: str, user: User
) -> GradeChange:
    """Change one mark in a reopened journal; only its teacher, only while the window is open."""
    request = ReopenRequest.objects.select_for_update().get(pk=request.pk)
    if user.pk != request.teacher_id:
        raise Forbidden(_("Only the teacher of the journal may change its marks."))
    if not request.window_open:
        raise Conflict(_("The journal is closed: its access window is over."))
    journal = request.journals.filter(pk=journal_id).first()
    if journal is None:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"journal": [_("This journal was not reopened.")]}
        )
    student = Student.objects.filter(pk=student_id, group=journal.group).first()
    if student is None:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"student": [_("The student is not in this group.")]}
        )
    new_value = _check_mark(value)
    mark = (
        JournalMark.objects.select_for_update()
        .filter(journal=journal, student=student, lesson_date=lesson_date)
        .first()
    )
    old_value = mark.value if mark else ""
    if old_value == new_value:
        raise ValidationFailed(_("Please correct the marked fields."), fields={"value": [_("The mark is unchanged.")]})
    if mark is None:
        JournalMark.objects.create(
            journal=journal, student=student, lesson_date=lesson_date, value=new_value, updated_by=user
        )
    else:
        mark.value = new_value
        mark.updated_by = user
        mark.save(update_fields=["value", "updated_by", "updated_at"])
    return GradeChange.objects.create(
        request=request,
        journal=journal,
        student=student,
        lesson_date=lesson_date,
        old_value=old_value,
        new_value=new_value,
        changed_by=user,
    )


# --- documents -------------------------------------------------------------------------------------------------


def _people(request: ReopenRequest) -> dict[str, Any]:
    from backend.accounts.selectors import role_holders

    def first(role: str, unit: Any) -> str:
        holders = role_holders(role=role, org_unit=unit) if unit is not None else []
        return holders[0].user.full_name if holders else ""

    school = request.department.school()
    return {
        "department_head": first("department_head", request.department),
        "dean_curation": first("dean_curation", school),
        "school_dean": first("school_dean", request.group.school),
        "vice_rector": first("vice_rector", request.department),
        "head_of_or": first("registrar_head", request.department),
    }


def _lesson_types_text(request: ReopenRequest, language: str) -> str:
    with override(language):
        return ", ".join(str(LessonType(t).label) for t in request.lesson_types)


def note_context(request: ReopenRequest, language: str) -> dict[str, Any]:
    people = _people(request)
    teacher = request.teacher
    specialty = request.group.specialty
    return {
        **letterhead(language),
        # The Kazakh form is addressed to the school's dean, the Russian one to the vice-rector (the position is
        # printed by the template).
        "addressee": {"name": people["school_dean"] if language == "kk" else people["vice_rector"]},
        "wrong_entry_date": format_date(request.wrong_entry_date),
        "reason": request.reason.rstrip("."),
        "discipline": f"{request.discipline.code} {request.discipline.name_in(language)}",
        "lesson_types": _lesson_types_text(request, language),
        "course": str(request.group.course),
        "group": request.group.name,
        "specialty": f"{specialty.code} «{specialty.name_in(language)}»",
        "teacher": {"name": teacher.full_name, "position": teacher.position},
        "department": {"name": request.department.name_in(language)},
        "department_head": {"name": people["department_head"]},
        "dean_curation": {"name": people["dean_curation"]},
        "school_dean": {"name": people["school_dean"]},
        "late": request.late,
        "late_days": str(request.late_days),
    }


def _grade_sheet_context(request: ReopenRequest, language: str) -> dict[str, Any]:
    changes = request.changes.select_related("student", "journal").order_by("changed_at", "pk")
    specialty = request.group.specialty
    rows = []
    with override(language):
        for number, change in enumerate(changes, start=1):
            rows.append(
                {
                    "no": str(number),
                    "student": change.student.full_name,
                    "student_id": change.student.student_id,
                    "lesson_date": format_date(change.lesson_date),
                    "lesson_type": str(LessonType(change.journal.lesson_type).label),
                    "old": change.old_value or "—",
                    "new": change.new_value,
                    "changed_at": format_datetime(change.changed_at),
                }
            )
    return {
        **letterhead(language),
        "discipline": f"{request.discipline.code} {request.discipline.name_in(language)}",
        "lesson_types": _lesson_types_text(request, language),
        "group": request.group.name,
        "course": str(request.group.course),
        "specialty": f"{specialty.code} «{specialty.name_in(language)}»",
        "academic_period": request.period.title(language),
        "teacher": {"name": request.teacher.full_name},
        "department": {"name": request.department.name_in(language)},
        "reopen": {
            "number": request.instance.business_key,
            "date": format_date(request.submitted_at),
            "window_from": format_datetime(request.window_opened_at),
            "window_to": format_datetime(request.window_closes_at),
        },
        "rows": rows,
        "registrar": {"name": "", "position": ""},
    }


def _proposal_context(request: ReopenRequest, language: str) -> dict[str, Any]:
    people = _people(request)
    reopens = (
        ReopenRequest.objects.filter(teacher=request.teacher, academic_year=request.academic_year)
        .exclude(window_opened_at=None)
        .select_related("discipline", "group")
        .order_by("window_opened_at")
    )
    with override(language):
        return {
            **letterhead(language),
            "addressee": {"name": people["vice_rector"]},
            "head_of_or": {"name": people["head_of_or"]},
            "academic_year": request.academic_year,
            "teacher": {"name": request.teacher.full_name, "position": request.teacher.position},
            "department": {"name": request.department.name_in(language)},
            "teacher_count": str(request.teacher_count or 0),
            "teacher_measure": str(Measure(request.proposed_teacher_measure or Measure.NONE).label),
            "department_count": str(request.department_count or 0),
            "department_measure": str(Measure(request.proposed_department_measure or Measure.NONE).label),
            "reopens": [
                {
                    "no": str(n),
                    "date": format_date(r.window_opened_at),
                    "discipline": r.discipline.name_in(language),
                    "group": r.group.name,
                    "reason": r.reason,
                }
                for n, r in enumerate(reopens, start=1)
            ],
        }


# --- what the diagram's scripts call ----------------------------------------------------------------------------


def _request_of(context: InstanceContext) -> ReopenRequest:
    return ReopenRequest.objects.select_related(
        "instance", "teacher", "department__parent", "discipline", "group__specialty__school", "period"
    ).get(instance_id=context.instance_id)


def _actor(context: InstanceContext) -> User | None:
    return User.objects.filter(pk=context.actor_id).first() if context.actor_id else None


@register_helper("generate_note")
def _generate_note(context: InstanceContext) -> Any:
    def generate_note(submission: int, wrong_entry_date: str, reason_category: str, reason: str) -> int:
        """Regenerate the explanatory note from the (possibly revised) fields; returns the document's id."""
        request = _request_of(context)
        request.wrong_entry_date = date.fromisoformat(wrong_entry_date)
        request.reason_category = reason_category
        request.reason = reason
        request.save(update_fields=["wrong_entry_date", "reason_category", "reason"])
        language = request.instance.data.get("language") or request.teacher.language
        language = language if language in ("kk", "ru") else "ru"
        document = document_request(
            kind="explanatory_note",
            language=language,
            context=note_context(request, language),
            instance=request.instance,
            key=f"note-{submission}",
            allocate_number=True,
            actor=_actor(context),
        )
        return document.pk

    return generate_note


@register_helper("reopen_journal")
def _reopen_journal(context: InstanceContext) -> Any:
    def reopen_journal(days: int, calendar: str = "working") -> str:
        """Open the named journals for the teacher; the note with every visa is filed; returns the window's end."""
        request = reopen_window_open(request=_request_of(context), days=int(days), working=calendar == "working")
        language = request.instance.data.get("language") or "ru"
        document_request(
            kind="explanatory_note",
            language=language,
            context=note_context(request, language),
            instance=request.instance,
            key="note-with-visas",
            approval_sheet=sheet_rows(request.instance, language),
            allocate_number=True,
            actor=_actor(context),
        )
        if context.record:
            context.record("note", {"event": "journal_reopened", "until": request.window_closes_at})
        assert request.window_closes_at is not None  # noqa: S101 - just set by reopen_window_open
        return request.window_closes_at.isoformat()

    return reopen_journal


@register_helper("reopen_close")
def _reopen_close(context: InstanceContext) -> Any:
    def reopen_close(expired: bool) -> bool:
        request = reopen_window_close(request=_request_of(context), expired=bool(expired))
        if context.record:
            context.record("note", {"event": "journal_closed", "expired": request.window_expired})
        return True

    return reopen_close


@register_helper("generate_grade_sheet")
def _generate_grade_sheet(context: InstanceContext) -> Any:
    def generate_grade_sheet() -> int:
        request = _request_of(context)
        language = request.instance.data.get("language") or "ru"
        document = document_request(
            kind="grade_sheet",
            language=language,
            context=_grade_sheet_context(request, language),
            instance=request.instance,
            key="grade-sheet",
            allocate_number=True,
            actor=_actor(context),
        )
        return document.pk

    return generate_grade_sheet


@register_helper("reopen_discipline")
def _reopen_discipline(context: InstanceContext) -> Any:
    def reopen_discipline() -> dict[str, Any]:
        """Count this reopen for the year, propose the measures, file the head of OR's proposal."""
        request = _request_of(context)
        teacher_count, department_count = counts_for(request)
        request.teacher_count = teacher_count
        request.department_count = department_count
        request.proposed_teacher_measure = discipline.teacher_measure(teacher_count)
        request.proposed_department_measure = discipline.department_measure(department_count)
        request.save(
            update_fields=[
                "teacher_count",
                "department_count",
                "proposed_teacher_measure",
                "proposed_department_measure",
            ]
        )
        language = request.instance.data.get("language") or "ru"
        document = document_request(
            kind="disciplinary_proposal",
            language=language,
            context=_proposal_context(request, language),
            instance=request.instance,
            key="proposal",
            allocate_number=True,
            actor=_actor(context),
        )
        return {
            "teacher_count": teacher_count,
            "department_count": department_count,
            "teacher_measure": request.proposed_teacher_measure,
            "department_measure": request.proposed_department_measure,
            "proposal_document": document.pk,
        }

    return reopen_discipline
