"""Process definitions, instances, the human-task projection, pending timers and the history log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import OrgUnit
from backend.core.models import pick_language


class ProcessDefinition(models.Model):
    """One deployed version of a BPMN process; the spec is stored once per content hash."""

    key = models.CharField(_("process key"), max_length=100, help_text=_("The BPMN process id."))
    version = models.PositiveIntegerField(_("version"))
    title = models.JSONField(_("title"), default=dict, help_text=_("The process name in kk/ru/en."))
    source_file = models.CharField(_("file"), max_length=255)
    content_hash = models.CharField(_("content hash"), max_length=64)
    bpmn_xml = models.TextField(_("BPMN XML"))
    # JSON text, not jsonb: the engine's serialization depends on key order, which jsonb does not keep.
    spec = models.TextField(_("serialized spec"))
    forms = models.JSONField(_("task forms"), default=dict)
    routing = models.JSONField(_("lane routing"), default=dict)
    deployed_at = models.DateTimeField(_("deployed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="definition_version_unique"),
            models.UniqueConstraint(fields=["key", "content_hash"], name="definition_content_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def title_in(self, language: str | None = None) -> str:
        return pick_language(self.title, language) or self.key

    def latest_routing(self) -> dict[str, Any]:
        """The routing of the process's latest version (this one's, when it is the latest): a version deployed
        before its diagram declared stages or purposes borrows them from there."""
        latest = ProcessDefinition.objects.filter(key=self.key).order_by("-version").only("routing").first()
        return (latest.routing if latest is not None else self.routing) or {}


class Purpose(models.TextChoices):
    """What Python needs to know about a user task: its `purpose` property in the diagram (never its id)."""

    REVIEW = "review", _("the staff review that approves, asks or refuses")
    ANSWER = "answer", _("the requester's answer to a question")
    SIGNATURE = "signature", _("the signer's step")
    HAND_OVER = "hand_over", _("handing over the paper copy")
    EXISTING_ACCOUNTS = "existing_accounts", _("the decision on accounts that already exist")


class ProcessInstance(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        SUSPENDED = "suspended", _("suspended")
        ERROR = "error", _("error")

    class Stage(models.TextChoices):
        """Where a case stands, for the people it concerns (backend/workflow/stages.py works it out).

        While it runs, the `stage` property of the step it waits at; once it ends, its `outcome` variable or
        the `stage` of the end event it reached; and the case's status when it is suspended, stopped by an
        error or cancelled.
        """

        IN_PROGRESS = "in_progress", _("in progress")
        APPROVAL = "approval", _("awaiting approval")
        REVIEW = "review", _("being checked by the Registrar office")
        QUESTION = "question", _("waiting for your answer")
        SIGNING = "signing", _("being signed")
        OPEN = "open", _("journal reopened")
        CLOSING = "closing", _("grade sheet under review")
        PROVISIONING = "provisioning", _("with IT staff")
        ACTIVATION = "activation", _("waiting for the activation")
        EXPIRED = "expired", _("activation links ran out")
        ISSUED = "issued", _("issued")
        HANDED_OVER = "handed_over", _("paper copy handed over")
        COMPLETED = "completed", _("completed")
        DEACTIVATED = "deactivated", _("account deactivated")
        CLOSED = "closed", _("closed without activation")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")
        CANCELLED = "cancelled", _("cancelled")
        SUSPENDED = "suspended", _("suspended")
        ERROR = "error", _("stopped by an error")

    definition = models.ForeignKey(
        ProcessDefinition, verbose_name=_("definition"), on_delete=models.PROTECT, related_name="instances"
    )
    process_key = models.CharField(_("process key"), max_length=100, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    # Saved with every change of the engine's state or the status; blank until first worked out.
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, blank=True, db_index=True)
    # «TR-2026-000123»: the process's prefix, the year the case started, the instance id; set when it starts.
    number = models.CharField(_("case number"), max_length=40, unique=True, null=True, blank=True)
    business_key = models.CharField(_("business key"), max_length=100, blank=True, db_index=True)
    subject = models.JSONField(_("subject"), default=dict, help_text=_("What the case is about, in kk/ru/en."))
    # The engine's state without the finished tasks already moved to its StateSegments (see engine.SEGMENT_AFTER).
    state = models.TextField(_("engine state"), default="{}", help_text=_("JSON; key order matters to the engine."))
    state_segments = models.PositiveIntegerField(_("state segments"), default=0)
    data = models.JSONField(_("process data"), default=dict)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="started_instances",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    incident = models.TextField(_("incident"), blank=True)
    # The anchor of the history chain: how many events it holds and the hash of the last one, written in the
    # transaction that appends an event. Deleting any event, the last included, or all of them is found.
    history_count = models.PositiveIntegerField(_("history events"), default=0)
    history_head = models.CharField(_("last history hash"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["process_key", "status"])]

    def __str__(self) -> str:
        return self.number or f"{self.process_key} #{self.pk}"

    def subject_in(self, language: str | None = None) -> str:
        return pick_language(self.subject, language) or str(self)

    @property
    def shown_number(self) -> str:
        """The number people see and search by: the case number (TR-2026-000001), never an internal key."""
        return self.number or str(self.pk)


def case_number(*, prefix: str, year: int, instance_id: int) -> str:
    """The human-readable number of a case: unique because the instance id is."""
    return f"{prefix}-{year}-{instance_id:06d}"


class StateSegment(models.Model):
    """Finished tasks of a case's engine state, written once when enough have gathered and never changed:
    a step then writes what changed, not the whole history. Later segments and the instance's state win."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="state_segments_stored")
    tasks = models.TextField(help_text="JSON: task id → serialized task.")

    class Meta:
        ordering = ["instance", "pk"]

    def __str__(self) -> str:
        return f"{self.instance} segment {self.pk}"


class HumanTask(models.Model):
    """A READY user task, projected out of the engine state so inboxes are plain indexed queries."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tasks")
    engine_task_id = models.UUIDField(_("engine task id"))
    spec_id = models.CharField(_("task"), max_length=100)
    process_key = models.CharField(_("process key"), max_length=100)
    title = models.JSONField(_("title"), default=dict)
    lane = models.CharField(_("lane"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=40, blank=True)
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("scope"), null=True, blank=True, on_delete=models.PROTECT)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tasks",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    priority = models.SmallIntegerField(_("priority"), default=0)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="completed_tasks",
    )
    completed_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed as substitute for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    submitted_data = models.JSONField(_("submitted data"), default=dict, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.JSONField(_("subject"), default=dict)
    search_text = models.TextField(_("search text"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "engine_task_id"], name="task_engine_id_unique"),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_open"),
            models.Index(fields=["status", "due_at"], name="task_status_due"),
            models.Index(fields=["instance", "status"], name="task_instance_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title_in()} ({self.instance})"

    def title_in(self, language: str | None = None) -> str:
        return pick_language(self.title, language) or self.spec_id

    def subject_in(self, language: str | None = None) -> str:
        return pick_language(self.subject, language)


class TaskCandidate(models.Model):
    """Someone who may claim and complete a task: a role holder, a deputy or a substitute."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="candidates")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="candidate_tasks")
    acting_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_open = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="candidate_unique")]
        indexes = [
            models.Index(fields=["user", "task"], name="candidate_open_by_user", condition=Q(is_open=True)),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.task_id}"


class Timer(models.Model):
    """A pending deadline: a BPMN timer event, or a task's reminder and escalation."""

    class Kind(models.TextChoices):
        BPMN = "bpmn", _("timer event")
        REMINDER = "reminder", _("reminder")
        ESCALATION = "escalation", _("escalation")

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    task = models.ForeignKey(HumanTask, null=True, blank=True, on_delete=models.CASCADE, related_name="timers")
    engine_task_id = models.UUIDField(null=True, blank=True)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"],
                name="timer_pending_due",
                condition=Q(fired_at__isnull=True, cancelled=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due_at:%Y-%m-%d %H:%M} ({self.instance})"


class HistoryEvent(models.Model):
    """Append-only, hash-chained log of what happened to an instance, written with the change itself."""

    class Kind(models.TextChoices):
        STARTED = "started", _("started")
        TASK_CREATED = "task_created", _("task created")
        TASK_CANCELLED = "task_cancelled", _("task withdrawn")
        CANDIDATES_CHANGED = "candidates_changed", _("task re-routed")
        CLAIMED = "claimed", _("claimed")
        RELEASED = "released", _("released")
        DELEGATED = "delegated", _("delegated")
        COMPLETED = "completed", _("task completed")
        TIMER_FIRED = "timer_fired", _("timer fired")
        REMINDER = "reminder", _("reminder sent")
        ESCALATED = "escalated", _("escalated")
        DOCUMENT_GENERATED = "document_generated", _("document generated")
        SIGNED = "signed", _("signed")
        COMMENTED = "commented", _("comment")
        ATTACHED = "attached", _("attachment added")
        ERROR = "error", _("error")
        RETRIED = "retried", _("retried")
        SUSPENDED = "suspended", _("suspended")
        RESUMED = "resumed", _("resumed")
        CANCELLED = "cancelled", _("cancelled")
        FINISHED = "finished", _("process finished")
        NOTE = "note", _("note")

    instance = models.ForeignKey(ProcessInstance, on_delete=models.PROTECT, related_name="history")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["instance", "seq"]
        constraints = [models.UniqueConstraint(fields=["instance", "seq"], name="history_seq_unique")]

    def __str__(self) -> str:
        return f"{self.instance} #{self.seq} {self.kind}"
