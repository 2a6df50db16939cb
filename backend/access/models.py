"""Login requests: who asked for which accounts, what became of each person, their one-time activation links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.academics.models import Journal, Student, StudyGroup
from backend.accounts.models import OrgUnit, iin_validator
from backend.documents.models import GeneratedDocument
from backend.workflow.models import ProcessInstance

# How a login request words the stages its case shares with other processes.
STAGE_WORDING: dict[str, Any] = {
    ProcessInstance.Stage.SIGNING: _("memo to be signed"),
    ProcessInstance.Stage.APPROVAL: _("with the head of IT"),
    ProcessInstance.Stage.PROVISIONING: _("accounts being created"),
}


class AccessRequest(models.Model):
    """One case of the login_request process: accounts for teachers or a student group, or a deactivation."""

    class Kind(models.TextChoices):
        TEACHERS = "teachers", _("accounts for new teachers")
        STUDENTS = "students", _("accounts for a student group")
        OFFBOARDING = "offboarding", _("deactivation of an account")

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("completed")
        REFUSED = "refused", _("refused")
        CLOSED = "closed", _("closed without activation")
        DEACTIVATED = "deactivated", _("account deactivated")

    instance = models.OneToOneField(
        ProcessInstance, verbose_name=_("case"), on_delete=models.PROTECT, related_name="access_request"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        OrgUnit, verbose_name=_("school"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group = models.ForeignKey(
        StudyGroup, verbose_name=_("group"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language of the memo"), max_length=2, default="ru")
    reason = models.TextField(_("reason"), blank=True)
    memo = models.ForeignKey(
        GeneratedDocument,
        verbose_name=_("memo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    memo_signed_at = models.DateTimeField(_("memo signed at"), null=True, blank=True)
    signing_problem = models.CharField(_("why the memo could not be signed"), max_length=500, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)
    provisioned_at = models.DateTimeField(_("accounts created at"), null=True, blank=True)
    links_expire_at = models.DateTimeField(_("activation links expire at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("login request")
        verbose_name_plural = _("login requests")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="students", group__isnull=False, school__isnull=False)
                | Q(kind__in=["teachers", "offboarding"], department__isnull=False),
                name="accessrequest_scope_of_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.instance_id}"

    @property
    def stage(self) -> str:
        """Where the request stands: its case's stage (backend/workflow/stages.py)."""
        return self.instance.stage

    def get_stage_display(self) -> str:
        return str(STAGE_WORDING.get(self.instance.stage) or self.instance.get_stage_display())


class AccessEntry(models.Model):
    """One person of a request: the teacher or student asked for, or the account to deactivate."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        MATCHED = "matched", _("an account with this e-mail or IIN exists")
        REFUSED = "refused", _("refused")
        SKIPPED = "skipped", _("not created")
        INVITED = "invited", _("activation link sent")
        ACTIVE = "active", _("account active")
        CLOSED = "closed", _("not activated, closed")
        DEACTIVATED = "deactivated", _("deactivated")

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="entries")
    order = models.PositiveSmallIntegerField(_("number in the request"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    position = models.CharField(_("position"), max_length=255, blank=True)
    last_name = models.CharField(_("surname"), max_length=150)
    first_name = models.CharField(_("name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    iin = models.CharField(_("IIN"), max_length=12, blank=True, validators=[iin_validator])
    start_date = models.DateField(_("start date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, default="ru")
    student = models.ForeignKey(
        Student, verbose_name=_("student"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    journals = models.ManyToManyField(Journal, verbose_name=_("journals to hand over"), blank=True, related_name="+")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_entries",
    )
    account_created = models.BooleanField(_("account created by this request"), default=False)
    match = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("existing account found"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    matched_by = models.CharField(_("matched by"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("person in a login request")
        verbose_name_plural = _("people in login requests")
        ordering = ["request", "order", "pk"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part)


class ActivationToken(models.Model):
    """A one-time link to set one's own password: only the SHA-256 of the token is kept."""

    entry = models.ForeignKey(AccessEntry, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when a fresher link replaced this one or the request closed.")
    )

    class Meta:
        verbose_name = _("activation link")
        verbose_name_plural = _("activation links")
        indexes = [
            models.Index(fields=["entry"], name="token_open_by_entry", condition=Q(used_at=None, revoked_at=None))
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.expires_at:%Y-%m-%d %H:%M}"


class BatchProgress(models.Model):
    """How far the background creation of a group's accounts has got (the page polls it)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")

    request = models.OneToOneField(AccessRequest, on_delete=models.CASCADE, related_name="progress")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("students"), default=0)
    done = models.PositiveIntegerField(_("accounts created"), default=0)
    skipped = models.PositiveIntegerField(_("not created"), default=0)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("progress of a group's accounts")
        verbose_name_plural = _("progress of groups' accounts")

    def __str__(self) -> str:
        return f"{self.request} {self.percent}%"

    @property
    def processed(self) -> int:
        return self.done + self.skipped

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 100 if self.state == self.State.FINISHED else 0
        return min(100, self.processed * 100 // self.total)
