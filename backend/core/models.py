"""Base model pieces shared by every app."""

from collections.abc import Callable

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def pick_language(values: dict[str, str], language: str | None = None) -> str:
    """The value in the requested (or active) language, falling back to Russian, Kazakh, English."""
    lang = (language or get_language() or "kk")[:2]
    for candidate in (lang, "ru", "kk", "en"):
        if values.get(candidate):
            return values[candidate]
    return ""


class TranslatedNameModel(models.Model):
    """A name kept in Kazakh, Russian and English; `name` answers in the active language."""

    name_kk = models.CharField(max_length=255)
    name_ru = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_in(None)

    def name_in(self, language: str | None) -> str:
        return pick_language({"kk": self.name_kk, "ru": self.name_ru, "en": self.name_en}, language)


class CalendarDay(models.Model):
    """A university's own exception to the public calendar: a day off, or a working Saturday."""

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(
        _("working day"), default=False, help_text=_("Tick for a working day that would otherwise be off.")
    )
    description = models.CharField(_("description"), max_length=255)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.description}"


def in_each_language(make: Callable[[str], object]) -> dict[str, str]:
    """A text in every language of the product, each made under that language's translations."""
    from django.conf import settings
    from django.utils.translation import override

    texts = {}
    for code, _name in settings.LANGUAGES:
        with override(code):
            texts[code] = str(make(code))
    return texts


class Job(models.Model):
    """Background work made of items; each item is done in its own transaction, exactly once.

    The kinds of job (bulk approval, batch issuing, …) are registered in `backend.core.jobs`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("finished with errors")

    kind = models.CharField(_("kind"), max_length=60)
    title = models.JSONField(_("title"), default=dict, help_text=_("In kk/ru/en."))
    owner = models.ForeignKey(
        "accounts.User", verbose_name=_("started by"), null=True, on_delete=models.PROTECT, related_name="jobs"
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("items"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    attempts = models.PositiveSmallIntegerField(_("runs"), default=0)
    back_url = models.CharField(_("back to"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["heartbeat_at"], name="job_unfinished", condition=models.Q(status__in=["queued", "running"])
            ),
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def title_in(self, language: str | None = None) -> str:
        return pick_language(self.title, language) or self.kind

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100


class JobItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=100, help_text="What the item is within its job, e.g. a task or student id.")
    label = models.JSONField(default=dict, help_text="What the item is called on the progress page, in kk/ru/en.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True, help_text="Why the item failed, in the words of the person who ran it.")
    result = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="job_item_unique")]
        indexes = [models.Index(fields=["job", "status", "position"], name="job_item_status")]

    def __str__(self) -> str:
        return f"{self.job} · {self.key}"

    def label_in(self, language: str | None = None) -> str:
        return pick_language(self.label, language) or self.key


class IdempotencyKey(models.Model):
    """The first answer to a write sent with an `Idempotency-Key` header, kept so a retry gets the same answer.

    Stored in the transaction of the write itself: a key row exists exactly when its write committed.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict, blank=True)
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
