"""What the inbox keeps beside the engine: saved filters, first views, comments, attachments, e-mail notices."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.workflow.models import HumanTask, ProcessInstance


class SavedFilter(models.Model):
    """A named inbox query a person comes back to ("overdue reopen requests")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="inbox_filters"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("query string"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_unique")]

    def __str__(self) -> str:
        return self.name


class TaskView(models.Model):
    """The first time a person opened a task: what makes it "read" for the header counter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="+")
    viewed_at = models.DateTimeField(_("first viewed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("task view")
        verbose_name_plural = _("task views")
        # (task, user) first: the counter probes it once per open task of the inbox.
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="task_view_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.task_id}"


class Comment(models.Model):
    """A remark on a case, visible to everyone taking part in it."""

    instance = models.ForeignKey(
        ProcessInstance, verbose_name=_("case"), on_delete=models.PROTECT, related_name="comments"
    )
    task = models.ForeignKey(
        HumanTask, verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    acting_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acting for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("text"), max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["instance", "created_at"], name="comment_instance_created")]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.text[:40]}"


def _attachment_path(attachment: Attachment, filename: str) -> str:
    # A random name: the uploader's file name is kept in the row, never used as a path.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"attachments/{attachment.instance_id}/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    """A file added to a case (a scan, a spreadsheet); downloads are permission-checked."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word (DOCX)"
        XLSX = "xlsx", "Excel (XLSX)"
        PNG = "png", "PNG"
        JPEG = "jpeg", "JPEG"

    instance = models.ForeignKey(
        ProcessInstance, verbose_name=_("case"), on_delete=models.PROTECT, related_name="attachments"
    )
    task = models.ForeignKey(
        HumanTask, verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    acting_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acting for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=255)
    name = models.CharField(_("file name"), max_length=255)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["instance", "created_at"], name="attachment_instance_created")]

    def __str__(self) -> str:
        return self.name


class Notice(models.Model):
    """Something a person should hear about a task; e-mailed at once, or in the daily digest."""

    class Kind(models.TextChoices):
        NEW = "new", _("new task")
        DUE_SOON = "due_soon", _("due within 24 hours")
        REMINDER = "reminder", _("reminder")
        ESCALATED = "escalated", _("escalated")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            # Once per person, task and kind: retried Celery tasks and repeated signals send nothing twice.
            models.UniqueConstraint(fields=["task", "user", "kind"], name="notice_once"),
        ]
        indexes = [models.Index(fields=["user"], name="notice_pending_by_user", condition=Q(sent_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind} {self.task_id} → {self.user_id}"
