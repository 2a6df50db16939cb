"""A request to reopen closed journals, the access window it opens, and every grade changed in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.academics.models import AcademicPeriod, Discipline, Journal, Student, StudyGroup
from backend.accounts.models import OrgUnit
from backend.workflow.models import ProcessInstance


class ReasonCategory(models.TextChoices):
    TECHNICAL_ERROR = "technical_error", _("technical error")
    WRONG_STUDENT = "wrong_student", _("entered for another student")
    WRONG_GRADE = "wrong_grade", _("wrong grade entered")
    LATE_ENTRY = "late_entry", _("grade not entered in time")
    OTHER = "other", _("other")


class Measure(models.TextChoices):
    """Disciplinary measures of RU SOP term 20, mildest first."""

    NONE = "none", _("no measure")
    ORAL_WARNING = "oral_warning", _("oral warning")
    REMARK = "remark", _("remark")
    REPRIMAND = "reprimand", _("reprimand")


class ReopenRequest(models.Model):
    instance = models.OneToOneField(
        ProcessInstance, verbose_name=_("case"), on_delete=models.PROTECT, related_name="reopen_request"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("teacher"), on_delete=models.PROTECT, related_name="reopen_requests"
    )
    department = models.ForeignKey(OrgUnit, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    discipline = models.ForeignKey(Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT)
    group = models.ForeignKey(StudyGroup, verbose_name=_("group"), on_delete=models.PROTECT)
    period = models.ForeignKey(AcademicPeriod, verbose_name=_("academic period"), on_delete=models.PROTECT)
    academic_year = models.CharField(_("academic year"), max_length=9, db_index=True)
    journals = models.ManyToManyField(Journal, verbose_name=_("journals"), related_name="reopen_requests")
    lesson_types = models.JSONField(_("lesson types"), default=list)
    wrong_entry_date = models.DateField(_("date of the wrong entry"))
    reason_category = models.CharField(_("kind of reason"), max_length=30, choices=ReasonCategory.choices)
    reason = models.TextField(_("reason"))
    late = models.BooleanField(_("submitted late"), default=False)
    late_days = models.PositiveSmallIntegerField(_("days late"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    window_opened_at = models.DateTimeField(_("journal reopened at"), null=True, blank=True)
    window_closes_at = models.DateTimeField(_("access ends at"), null=True, blank=True)
    window_closed_at = models.DateTimeField(_("journal closed again at"), null=True, blank=True)
    window_expired = models.BooleanField(_("access ran out"), default=False)
    teacher_count = models.PositiveSmallIntegerField(_("reopens of the teacher this year"), null=True, blank=True)
    department_count = models.PositiveSmallIntegerField(_("reopens of the department this year"), null=True, blank=True)
    proposed_teacher_measure = models.CharField(
        _("proposed measure for the teacher"), max_length=20, choices=Measure.choices, blank=True
    )
    proposed_department_measure = models.CharField(
        _("proposed measure for the department"), max_length=20, choices=Measure.choices, blank=True
    )

    class Meta:
        verbose_name = _("journal reopen request")
        verbose_name_plural = _("journal reopen requests")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["teacher", "academic_year"]),
            models.Index(fields=["department", "academic_year"]),
        ]

    def __str__(self) -> str:
        return f"{self.discipline.code} {self.group} — {self.teacher}"

    @property
    def stage(self) -> str:
        """Where the request stands: its case's stage (backend/workflow/stages.py)."""
        return self.instance.stage

    def get_stage_display(self) -> str:
        if self.instance.stage == ProcessInstance.Stage.APPROVAL:
            return str(_("collecting visas"))
        return self.instance.get_stage_display()

    @property
    def window_open(self) -> bool:
        now = timezone.now()
        return bool(
            self.window_opened_at
            and not self.window_closed_at
            and self.window_closes_at
            and now < self.window_closes_at
        )


class GradeChange(models.Model):
    """One mark changed while a journal was reopened: old → new, who and when."""

    request = models.ForeignKey(ReopenRequest, on_delete=models.PROTECT, related_name="changes")
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    lesson_date = models.DateField(_("lesson date"))
    old_value = models.CharField(_("old mark"), max_length=10, blank=True)
    new_value = models.CharField(_("new mark"), max_length=10)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.student} {self.lesson_date}: {self.old_value} → {self.new_value}"
