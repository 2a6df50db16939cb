"""The monitor's data: SOP targets and alert thresholds (kept in the admin), and the rollups it reads.

`CaseFact` and `TaskFact` are derived from the workflow's instances, tasks and history by
`facts.facts_refresh` (every minute, from beat): working-time durations with suspensions left out are
worked out once there, so the pages only aggregate indexed rows in the database.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import OrgUnit
from backend.workflow.models import HumanTask, ProcessInstance


class ProcessTarget(models.Model):
    """A process's SOP deadline for the whole case (request → outcome)."""

    process_key = models.CharField(_("process key"), max_length=100, unique=True)
    days = models.PositiveSmallIntegerField(
        _("days"),
        null=True,
        blank=True,
        help_text=_(
            "Leave empty when the SOP sets deadlines per step only: then a case is on time when every step was."
        ),
    )
    working_days = models.BooleanField(_("working days"), default=True)

    class Meta:
        verbose_name = _("SOP deadline of a process")
        verbose_name_plural = _("SOP deadlines of processes")
        ordering = ["process_key"]

    def __str__(self) -> str:
        return self.process_key


class StepThreshold(models.Model):
    """The on-time share below which a step is reported to the head of the Registrar office."""

    process_key = models.CharField(_("process key"), max_length=100)
    spec_id = models.CharField(_("step"), max_length=100, help_text=_("The user task's id in the diagram."))
    min_on_time_share = models.DecimalField(
        _("minimum share on time"),
        max_digits=4,
        decimal_places=3,
        help_text=_("Between 0 and 1, e.g. 0.9 for 90 %."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("step threshold")
        verbose_name_plural = _("step thresholds")
        ordering = ["process_key", "spec_id"]
        constraints = [
            models.UniqueConstraint(fields=["process_key", "spec_id"], name="monitor_threshold_step_unique"),
            models.CheckConstraint(
                condition=Q(min_on_time_share__gte=0, min_on_time_share__lte=1), name="monitor_threshold_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process_key}/{self.spec_id}"


class CaseFact(models.Model):
    """One case as the monitor counts it: its unit, status and end-to-end working time."""

    instance = models.OneToOneField(
        ProcessInstance, primary_key=True, on_delete=models.CASCADE, related_name="monitor_fact"
    )
    process_key = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    unit = models.ForeignKey(OrgUnit, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=ProcessInstance.Status.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    # Working seconds request → outcome with suspensions left out; set once the case completed.
    e2e_seconds = models.FloatField(null=True)
    within_sop = models.BooleanField(null=True)
    # When a running case passes its SOP deadline, its suspensions (until now) added; None without one.
    due_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The summaries read a day's cases started and finished.
            models.Index(fields=["started_at"], name="casefact_started"),
            models.Index(fields=["finished_at"], name="casefact_finished"),
            # Running cases past their deadline, counted from the index alone.
            models.Index(fields=["process_key", "status", "due_at", "instance"], name="casefact_process_status_due"),
            # The refresh compares only unfinished cases' facts with their cases (a finished case never changes).
            models.Index(
                fields=["instance", "status"],
                name="casefact_unfinished",
                condition=~Q(status__in=["completed", "cancelled"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process_key} #{self.instance_id}"


class TaskFact(models.Model):
    """One finished user task: working time waiting and after claim, against its due time; loops."""

    task = models.OneToOneField(HumanTask, primary_key=True, on_delete=models.CASCADE, related_name="monitor_fact")
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="+")
    process_key = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    spec_id = models.CharField(max_length=100)
    role = models.CharField(max_length=40, blank=True)
    unit = models.ForeignKey(OrgUnit, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=HumanTask.Status.choices)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True)
    completed_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    wait_seconds = models.FloatField(null=True)  # created → completed
    claim_seconds = models.FloatField(null=True)  # claimed (or assigned) → completed
    due_seconds = models.FloatField(null=True)  # created → due, on the same calendar
    on_time = models.BooleanField(null=True)
    loop = models.PositiveSmallIntegerField(default=0)  # how many times the step ran before in the case

    class Meta:
        indexes = [
            models.Index(fields=["completed_at"], name="taskfact_completed"),
        ]

    def __str__(self) -> str:
        return f"{self.spec_id} #{self.task_id}"


class Span(models.TextChoices):
    DAY = "day"
    MONTH = "month"


class Summary(models.Model):
    """What every summary row is keyed by: a day (or a month, by its first day) and a unit.

    Each unit's rows are kept, and, with `all_units` set (and no unit), the same figures over every unit:
    what the Registrar office, the vice-rector and auditors read, so their year merges one row per step and
    month instead of one per step, month and unit. A dean's or head's scope reads their units' rows."""

    span = models.CharField(max_length=5, choices=Span.choices)
    day = models.DateField()  # the day, or the first day of the month
    unit = models.ForeignKey(OrgUnit, null=True, on_delete=models.SET_NULL, related_name="+")
    all_units = models.BooleanField(default=False)

    class Meta:
        abstract = True


class CaseSummary(Summary):
    """A process's cases on one day (or in one month, merged from its days), per version and unit.

    Cases started that day, completed (with the histogram of their end-to-end working time, see sketch.py)
    and cancelled that day, and how many completed within the SOP deadline. Kept by `summaries.summaries_rebuild`.
    """

    process_key = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    started = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    within_sop = models.PositiveIntegerField(default=0)
    e2e = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["all_units", "span", "day"], name="casesummary_scope_span_day")]

    def __str__(self) -> str:
        return f"{self.process_key} {self.span} {self.day}"


class StepSummary(Summary):
    """A user task's completions on one day (or in one month), per process version, role and unit.

    Counts (completed, with a due time, on time, ran again in the case) and three histograms of working
    seconds: waiting (created → completed), after claim, and the time it was given (created → due).
    """

    process_key = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    spec_id = models.CharField(max_length=100)
    role = models.CharField(max_length=40, blank=True)
    completed = models.PositiveIntegerField(default=0)
    with_due = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    repeated = models.PositiveIntegerField(default=0)
    wait = models.JSONField(default=dict)
    claim = models.JSONField(default=dict)
    due = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["process_key", "all_units", "span", "day"], name="stepsummary_process_scope_day")
        ]

    def __str__(self) -> str:
        return f"{self.process_key}/{self.spec_id} {self.span} {self.day}"


class PersonSummary(Summary):
    """The user tasks a person completed on one day (or in one month) per unit: how many, and the histogram
    of their working time waiting (the workload table's median)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    completed = models.PositiveIntegerField(default=0)
    wait = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["all_units", "span", "day"], name="personsummary_scope_span_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.span} {self.day}"
