"""Transcript requests, their kinds and signers, the registry journal, group batches and cabinet notices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.academics.models import AcademicPeriod, Student, StudyGroup
from backend.accounts.models import OrgUnit
from backend.core.models import Job, TranslatedNameModel, pick_language
from backend.documents.models import GeneratedDocument
from backend.workflow.models import ProcessInstance


class TranscriptKind(TranslatedNameModel):
    """A kind of transcript and who signs it (head of the Registrar office, the school's dean or a head)."""

    class SignerRole(models.TextChoices):
        REGISTRAR_HEAD = "registrar_head", _("head of the Registrar office")
        SCHOOL_DEAN = "school_dean", _("dean of the student's school")
        DEPARTMENT_HEAD = "department_head", _("head of a department or division")

    code = models.SlugField(_("code"), unique=True)
    signer_role = models.CharField(_("signed by"), max_length=30, choices=SignerRole.choices)
    signer_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("signer's unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("For a head of department or division: which one. Deans sign for the student's school."),
    )
    e_seal = models.BooleanField(
        _("issued under the university's e-seal"),
        default=False,
        help_text=_(
            "No person's signature: the keeper of the e-seal signs with the organisation's certificate, and the "
            "stamp and the approval sheet name the university. Otherwise the signer above signs each one."
        ),
    )
    is_active = models.BooleanField(_("offered to students"), default=True)

    class Meta:
        verbose_name = _("transcript kind")
        verbose_name_plural = _("transcript kinds")
        constraints = [
            models.CheckConstraint(
                condition=~Q(signer_role="department_head") | Q(signer_unit__isnull=False),
                name="department_signer_has_unit",
            )
        ]


class TranscriptRequest(models.Model):
    instance = models.OneToOneField(
        ProcessInstance, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transcript_request"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="transcripts"
    )
    kind = models.ForeignKey(TranscriptKind, verbose_name=_("kind"), on_delete=models.PROTECT)
    periods = models.ManyToManyField(
        AcademicPeriod, verbose_name=_("academic periods"), blank=True, help_text=_("Empty: the whole study.")
    )
    reason = models.CharField(_("reason"), max_length=500)
    language = models.CharField(_("language"), max_length=2)
    electronic = models.BooleanField(_("electronic copy"), default=True)
    paper_copies = models.PositiveSmallIntegerField(_("paper copies"), default=0)
    batch = models.ForeignKey("Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="requests")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    issue_due = models.DateTimeField(_("to be issued by"))
    document = models.OneToOneField(
        GeneratedDocument,
        verbose_name=_("transcript"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transcript_request",
    )
    number = models.CharField(_("number"), max_length=50, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("student told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transcript request")
        verbose_name_plural = _("transcript requests")
        ordering = ["-requested_at"]
        constraints = [
            # A group batch issues one transcript per student, whatever happens to the job that runs it.
            models.UniqueConstraint(
                fields=["batch", "student"], condition=Q(batch__isnull=False), name="transcript_one_per_student_batch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.number or f'{self.requested_at:%d.%m.%Y}'}"


class RegistryEntry(models.Model):
    """The transcript registry journal: one line per issued transcript, in number order."""

    request = models.OneToOneField(TranscriptRequest, on_delete=models.PROTECT, related_name="registry_entry")
    number = models.CharField(_("number"), max_length=50, unique=True)
    sequence = models.PositiveIntegerField(_("sequence"), db_index=True)
    issued_on = models.DateField(_("date of issue"))
    student_name = models.CharField(_("student"), max_length=300)
    student_code = models.CharField(_("student ID"), max_length=20)
    kind_name = models.CharField(_("kind"), max_length=255)
    electronic = models.BooleanField(_("electronic"))
    paper_copies = models.PositiveSmallIntegerField(_("paper copies"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_by = models.CharField(_("received by"), max_length=200, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    receiver_document = models.CharField(_("receiver's document"), max_length=100, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("transcript registry journal")
        ordering = ["issued_on", "sequence"]

    def __str__(self) -> str:
        return f"{self.number} {self.student_name}"


class Batch(models.Model):
    """Transcripts for a whole group (e.g. graduates), generated in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("finished with errors")

    group = models.ForeignKey(StudyGroup, verbose_name=_("group"), on_delete=models.PROTECT)
    kind = models.ForeignKey(TranscriptKind, verbose_name=_("kind"), on_delete=models.PROTECT)
    language = models.CharField(_("language"), max_length=2)
    reason = models.CharField(_("reason"), max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("transcripts"), default=0)
    done = models.PositiveIntegerField(_("issued"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    job = models.OneToOneField(
        Job,
        verbose_name=_("background job"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transcript_batch",
        help_text=_("Runs the batch: one item per student, each done exactly once."),
    )

    class Meta:
        verbose_name = _("transcript batch")
        verbose_name_plural = _("transcript batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.group} {self.created_at:%d.%m.%Y}"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100

    def refresh_from_job(self) -> Batch:
        """Take the status and counts of the job that runs the batch (the job's items are the truth)."""
        if self.job is not None:
            self.status, self.done, self.failed = self.job.status, self.job.done, self.job.failed
            self.total, self.finished_at = self.job.total, self.job.finished_at
        return self

    def failures(self) -> list[dict[str, str]]:
        """Who did not get a transcript and why, from the job's items while it runs (the same once finished)."""
        if self.job is None:
            return list(self.errors)
        failed = self.job.items.filter(status="failed").order_by("position")
        return [{"student": item.label_in(), "error": item.message} for item in failed]


class Notice(models.Model):
    """A message in a person's cabinet (e.g. "your transcript is ready"), besides the e-mail."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    text = models.JSONField(_("text"), help_text=_("In kk/ru/en."))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text_in()

    def text_in(self, language: str | None = None) -> str:
        return pick_language(self.text, language)
