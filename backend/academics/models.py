"""Academic records the processes need: groups, students, disciplines, journals, final grades, the scale."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import OrgUnit, iin_validator
from backend.core.models import TimeStampedModel, TranslatedNameModel

academic_year_validator = RegexValidator(r"^\d{4}-\d{4}$", _("Write the academic year as 2025-2026."))


class Specialty(TranslatedNameModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    school = models.ForeignKey(
        OrgUnit, verbose_name=_("school"), on_delete=models.PROTECT, limit_choices_to={"kind": "school"}
    )

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StudyForm(models.TextChoices):
    FULL_TIME = "full_time", _("full-time")
    PART_TIME = "part_time", _("part-time")
    EVENING = "evening", _("evening")
    DISTANCE = "distance", _("distance")


class StudyGroup(TimeStampedModel):
    name = models.CharField(_("group"), max_length=50, unique=True)
    specialty = models.ForeignKey(Specialty, verbose_name=_("specialty"), on_delete=models.PROTECT)
    course = models.PositiveSmallIntegerField(_("course"), validators=[MinValueValidator(1), MaxValueValidator(7)])
    study_form = models.CharField(_("study form"), max_length=20, choices=StudyForm.choices)
    duration_years = models.PositiveSmallIntegerField(
        _("duration of study, years"), validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    language = models.CharField(_("language of instruction"), max_length=2, default="kk")
    admission_year = models.PositiveSmallIntegerField(_("admission year"))

    class Meta:
        verbose_name = _("study group")
        verbose_name_plural = _("study groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def school(self) -> OrgUnit:
        return self.specialty.school


class Student(TimeStampedModel):
    class Status(models.TextChoices):
        STUDYING = "studying", _("studying")
        ACADEMIC_LEAVE = "academic_leave", _("on academic leave")
        GRADUATED = "graduated", _("graduated")
        EXPELLED = "expelled", _("expelled")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="student",
    )
    student_id = models.CharField(_("student ID"), max_length=20, unique=True)
    iin = models.CharField(_("IIN"), max_length=12, unique=True, validators=[iin_validator])
    last_name = models.CharField(_("surname"), max_length=150)
    first_name = models.CharField(_("name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    group = models.ForeignKey(StudyGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="students")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.STUDYING)
    graduated_on = models.DateField(_("graduated on"), null=True, blank=True)

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.short_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip()


class AcademicPeriod(models.Model):
    academic_year = models.CharField(_("academic year"), max_length=9, validators=[academic_year_validator])
    term = models.PositiveSmallIntegerField(
        _("term"),
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("1 and 2 are the semesters, 3 the summer term."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("academic period")
        verbose_name_plural = _("academic periods")
        ordering = ["academic_year", "term"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "term"], name="period_unique"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="period_order"),
        ]

    def __str__(self) -> str:
        return self.title()

    def title(self, language: str | None = None) -> str:
        from django.utils import translation

        with translation.override(language or translation.get_language()):
            if self.term == 3:
                return str(_("%(year)s academic year, summer term") % {"year": self.academic_year})
            return str(_("%(year)s academic year, semester %(term)s") % {"year": self.academic_year, "term": self.term})


class Discipline(TranslatedNameModel):
    class Kind(models.TextChoices):
        DISCIPLINE = "discipline", _("discipline (D)")
        INTEGRATED = "integrated", _("integrated discipline (ID)")
        BLOCK = "block", _("block of an integrated discipline (b)")
        MODULE = "module", _("module (M)")
        MODULAR = "modular", _("modular discipline (md)")

    code = models.CharField(_("code"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DISCIPLINE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parts",
    )
    credits = models.PositiveSmallIntegerField(_("credits"), validators=[MaxValueValidator(60)])
    department = models.ForeignKey(
        OrgUnit,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "department"},
    )

    class Meta:
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["block", "modular"], parent__isnull=False)
                | Q(kind__in=["discipline", "integrated", "module"], parent__isnull=True),
                name="discipline_parts_have_parent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LessonType(models.TextChoices):
    LECTURE = "lecture", _("lecture")
    PRACTICAL = "practical", _("practical class")
    SEMINAR = "seminar", _("seminar")
    LABORATORY = "laboratory", _("laboratory class")
    CLINICAL = "clinical", _("clinical practice")
    INDEPENDENT = "independent", _("independent work with a teacher")


class Journal(TimeStampedModel):
    """An electronic journal: discipline × group × lesson type × teacher for a period."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        REOPENED = "reopened", _("reopened")

    discipline = models.ForeignKey(Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT)
    group = models.ForeignKey(StudyGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="journals")
    lesson_type = models.CharField(_("lesson type"), max_length=20, choices=LessonType.choices)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("teacher"), on_delete=models.PROTECT, related_name="journals"
    )
    period = models.ForeignKey(AcademicPeriod, verbose_name=_("academic period"), on_delete=models.PROTECT)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    closes_at = models.DateTimeField(_("closing deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("electronic journal")
        verbose_name_plural = _("electronic journals")
        ordering = ["period", "discipline__code", "group__name"]
        constraints = [
            models.UniqueConstraint(fields=["discipline", "group", "lesson_type", "period"], name="journal_unique")
        ]
        indexes = [models.Index(fields=["teacher", "status"])]

    def __str__(self) -> str:
        return f"{self.discipline.name} — {self.group} — {self.get_lesson_type_display()}"


class JournalMark(models.Model):
    """One mark in a journal: points, `н/б` (absent) or `0` (unprepared); the scale decides what is valid."""

    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="marks")
    student = models.ForeignKey(Student, on_delete=models.PROTECT)
    lesson_date = models.DateField(_("lesson date"))
    value = models.CharField(_("mark"), max_length=10)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("journal mark")
        verbose_name_plural = _("journal marks")
        constraints = [models.UniqueConstraint(fields=["journal", "student", "lesson_date"], name="journalmark_unique")]

    def __str__(self) -> str:
        return f"{self.student} {self.lesson_date}: {self.value}"


class GradingScale(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=255)
    min_points = models.DecimalField(_("lowest points"), max_digits=6, decimal_places=2, default=Decimal(0))
    max_points = models.DecimalField(_("highest points"), max_digits=6, decimal_places=2, default=Decimal(100))
    is_default = models.BooleanField(_("default scale"), default=False)
    journal_marks = models.CharField(
        _("other journal marks"),
        max_length=100,
        blank=True,
        default="н/б",
        help_text=_("Comma-separated marks allowed besides points, e.g. н/б."),
    )

    class Meta:
        verbose_name = _("grading scale")
        verbose_name_plural = _("grading scales")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_scale")
        ]

    def __str__(self) -> str:
        return self.name


class GradeBand(models.Model):
    scale = models.ForeignKey(GradingScale, on_delete=models.CASCADE, related_name="bands")
    letter = models.CharField(_("letter"), max_length=3)
    min_points = models.DecimalField(_("from points"), max_digits=6, decimal_places=2)
    max_points = models.DecimalField(_("to points"), max_digits=6, decimal_places=2)
    grade_point = models.DecimalField(_("grade points"), max_digits=3, decimal_places=2)
    is_passing = models.BooleanField(_("passing"), default=True)

    class Meta:
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        ordering = ["-min_points"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "letter"], name="band_letter_unique"),
            models.CheckConstraint(condition=Q(max_points__gte=models.F("min_points")), name="band_order"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} ({self.min_points}–{self.max_points})"


class FinalGrade(TimeStampedModel):
    student = models.ForeignKey(Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="grades")
    discipline = models.ForeignKey(Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT)
    period = models.ForeignKey(AcademicPeriod, verbose_name=_("academic period"), on_delete=models.PROTECT)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    letter = models.CharField(_("letter"), max_length=3)
    grade_point = models.DecimalField(_("grade points"), max_digits=3, decimal_places=2)
    credits = models.PositiveSmallIntegerField(_("credits"))
    is_passing = models.BooleanField(_("passing"))
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    is_retake = models.BooleanField(_("retake"), default=False)

    class Meta:
        verbose_name = _("final grade")
        verbose_name_plural = _("final grades")
        ordering = ["period", "discipline__code", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["student", "discipline", "attempt"], name="finalgrade_attempt_unique"),
            models.CheckConstraint(condition=Q(is_retake=False) | Q(attempt__gt=1), name="retake_is_later_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.discipline.code} {self.points} {self.letter}"
