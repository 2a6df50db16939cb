"""Writes of the inbox: saved filters, first views, comments, attachments, bulk approval and e-mail notices."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, Forbidden, NotFound, ValidationFailed
from backend.core.jobs import job_start, register_job_kind
from backend.core.models import Job, JobItem, in_each_language
from backend.workflow import services as workflow
from backend.workflow.history import history_record
from backend.workflow.models import HistoryEvent, HumanTask, TaskCandidate
from backend.workflow.selectors import inbox, visible_task

from . import filetypes
from .emails import notice_email
from .models import Attachment, Comment, Notice, SavedFilter, TaskView
from .selectors import InboxFilters, bulk_specs, may_contribute
from .wording import DUE_SOON

logger = logging.getLogger(__name__)

MAX_BULK = 100
MAX_COMMENT = 4000


# --- saved filters -----------------------------------------------------------------------------------------------


@transaction.atomic
def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Save the inbox's filters under a name; saving again under the same name replaces them."""
    from django.http import QueryDict

    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("Give the filter a name."), fields={"name": [_("This field is required.")]})
    if len(name) > SavedFilter._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationFailed(_("The name is too long."), fields={"name": [_("Enter at most 100 characters.")]})
    normalized = InboxFilters.from_query(QueryDict(query.lstrip("?"))).query_string(with_paging=False)
    saved, _created = SavedFilter.objects.update_or_create(user=user, name=name, defaults={"query": normalized})
    return saved


@transaction.atomic
def saved_filter_delete(*, user: User, filter_id: int) -> None:
    deleted, _rows = SavedFilter.objects.filter(user=user, pk=filter_id).delete()
    if not deleted:
        raise NotFound(_("There is no such saved filter."))


# --- reading a task ----------------------------------------------------------------------------------------------


def task_view_record(*, user: User, task: HumanTask) -> None:
    """Remember that the person opened the task (only the first time counts); no error if it was already seen."""
    TaskView.objects.bulk_create([TaskView(user=user, task=task)], ignore_conflicts=True)


# --- comments and attachments -----------------------------------------------------------------------------------


def _contributing(task_id: int, user: User) -> tuple[HumanTask, User | None]:
    task = visible_task(task_id, user)
    allowed, acting_for = may_contribute(task, user)
    if not allowed:
        raise Forbidden(_("Only the people taking part in this case can comment on it or add files."))
    return task, acting_for


@transaction.atomic
def comment_create(*, task_id: int, user: User, text: str) -> Comment:
    """Add a comment to the task's case; its history records it in the same transaction."""
    task, acting_for = _contributing(task_id, user)
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Write the comment first."), fields={"text": [_("This field may not be blank.")]})
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            _("The comment is too long."),
            fields={"text": [_("Enter at most %(n)s characters.") % {"n": MAX_COMMENT}]},
        )
    comment = Comment.objects.create(instance=task.instance, task=task, author=user, acting_for=acting_for, text=text)
    history_record(
        instance=task.instance,
        kind=HistoryEvent.Kind.COMMENTED,
        actor=user,
        payload={
            "comment": comment.pk,
            "task": task.pk,
            "text": text,
            "acting_for": acting_for.username if acting_for else None,
        },
    )
    return comment


def _attachment_kind(upload: UploadedFile) -> str:
    limit = settings.QUJAT_ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationFailed(
            _("The file is too large."),
            fields={"file": [_("Files up to %(size)s are accepted.") % {"size": filesizeformat(limit)}]},
        )
    if upload.size == 0:
        raise ValidationFailed(_("The file is empty."), fields={"file": [_("The file is empty.")]})
    claimed = filetypes.kind_by_extension(upload.name or "")
    actual = filetypes.sniff(upload.file) if upload.file is not None else None
    if claimed is None or actual is None or claimed != actual:
        raise ValidationFailed(
            _("This type of file is not accepted."),
            fields={
                "file": [_("Attach a PDF, DOCX, XLSX, PNG or JPEG file (its content is checked, not only its name).")]
            },
        )
    return actual


@transaction.atomic
def attachment_create(*, task_id: int, user: User, upload: UploadedFile) -> Attachment:
    """Store a file on the task's case (type judged by content, size limited) and record it in the history."""
    task, acting_for = _contributing(task_id, user)
    kind = _attachment_kind(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "file").replace("/", "_").replace("\\", "_")[-255:]
    attachment = Attachment(
        instance=task.instance,
        task=task,
        uploaded_by=user,
        acting_for=acting_for,
        name=name,
        kind=kind,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
    )
    # The file is written before the row; a rollback leaves an unreferenced file, never a row without its file.
    attachment.file.save(name, upload, save=False)
    attachment.save()
    history_record(
        instance=task.instance,
        kind=HistoryEvent.Kind.ATTACHED,
        actor=user,
        payload={
            "attachment": attachment.pk,
            "task": task.pk,
            "name": attachment.name,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "acting_for": acting_for.username if acting_for else None,
        },
    )
    return attachment


# --- bulk approval ------------------------------------------------------------------------------------------------

BULK_JOB = "inbox.bulk_complete"


def tasks_bulk_start(*, user: User, task_ids: list[int], data: dict[str, Any], back_url: str = "") -> Job:
    """Queue the approval of the selected routine tasks (bulk="true") with the same data as a background job.

    The job completes each task in its own transaction, exactly as if it had been done on its own page (its
    own history event; whatever the step starts, such as issuing a transcript, queued after that commit);
    one refused task does not undo the others, and the job's page says for each task what happened and why.
    """
    if not task_ids:
        raise ValidationFailed(_("Select at least one task."), fields={"tasks": [_("Select at least one task.")]})
    if len(task_ids) > MAX_BULK:
        raise ValidationFailed(
            _("Select at most %(n)s tasks at a time.") % {"n": MAX_BULK},
            fields={"tasks": [_("Select at most %(n)s tasks at a time.") % {"n": MAX_BULK}]},
        )
    unique = list(dict.fromkeys(task_ids))
    return job_start(
        kind=BULK_JOB,
        owner=user,
        title=in_each_language(
            lambda _language: ngettext("Approve %(n)s task", "Approve %(n)s tasks", len(unique)) % {"n": len(unique)}
        ),
        items=[(str(pk), _task_label(pk)) for pk in unique],
        params={"data": data},
        back_url=back_url,
    )


def _task_label(task_id: int) -> dict[str, str]:
    return in_each_language(lambda _language: _("Task %(id)s") % {"id": task_id})


def _bulk_complete_one(job: Job, item: JobItem) -> dict[str, Any]:
    user = job.owner
    if user is None or not user.is_active:
        raise Forbidden(_("The person who started this job can no longer act."))
    task_id, data = int(item.key), job.params.get("data", {})
    task = visible_task(task_id, user)
    # The label names the task only now that the job's owner is known to see it.
    JobItem.objects.filter(pk=item.pk).update(
        label=in_each_language(lambda language: f"{task.title_in(language)} — {task.subject_in(language)}")
    )
    if task.spec_id not in bulk_specs(task.instance.definition):
        raise ValidationFailed(_("This task must be decided on its own page."))
    fields = task.instance.definition.forms.get(task.spec_id, {}).get("properties", {})
    given = {name: value for name, value in data.items() if name != "comment" or "comment" in fields}
    try:
        if data.get("comment") and "comment" not in fields:
            # This step's form takes no comment: it goes on the case as a comment, never lost.
            comment_create(task_id=task_id, user=user, text=str(data["comment"]))
        workflow.task_complete(task_id=task_id, user=user, data=given)
    except ApplicationError as error:
        details = "; ".join(f"{name}: {', '.join(messages)}" for name, messages in error.fields.items())
        if details and error.code == "invalid":
            raise ApplicationError(f"{error.message} ({details})", code=error.code) from error
        raise
    return {"url": reverse("web:task", args=[task_id]), "task": task_id}


register_job_kind(BULK_JOB, run_item=_bulk_complete_one)


# --- notices and e-mail ------------------------------------------------------------------------------------------


def _recipient_ids(task: HumanTask, kind: str) -> list[int]:
    """Who hears about a task: its assignee, or everyone it is offered to while nobody has claimed it; an
    escalation also reaches the level above, who were added to the candidates however the task stood."""
    offered = list(TaskCandidate.objects.filter(task=task, is_open=True).values_list("user_id", flat=True))
    if task.assignee_id is None:
        return offered
    if kind == Notice.Kind.ESCALATED:
        return list(dict.fromkeys([task.assignee_id, *offered]))
    return [task.assignee_id]


@transaction.atomic
def notices_for_task(*, task_id: int, kind: str) -> list[int]:
    """Record a notice of `kind` for each person the open task concerns; the ids of those to e-mail now."""
    task = HumanTask.objects.filter(pk=task_id, status=HumanTask.Status.OPEN).first()
    if task is None:
        return []
    recipients = _recipient_ids(task, kind)
    Notice.objects.bulk_create(
        [Notice(user_id=user_id, task=task, kind=kind) for user_id in recipients], ignore_conflicts=True
    )
    return list(
        User.objects.filter(pk__in=recipients, is_active=True, email_digest=False)
        .exclude(email="")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def notices_due_soon(*, now: datetime | None = None) -> list[int]:
    """Record a "due within 24 hours" notice for each open task due that soon not yet announced; ids to e-mail."""
    moment = now or timezone.now()
    due = HumanTask.objects.filter(status=HumanTask.Status.OPEN, due_at__gt=moment, due_at__lte=moment + DUE_SOON)
    already = Notice.objects.filter(task=OuterRef("task_id"), user=OuterRef("user_id"), kind=Notice.Kind.DUE_SOON)
    offered = (
        TaskCandidate.objects.filter(task__in=due.filter(assignee__isnull=True), is_open=True)
        .exclude(Exists(already))
        .values_list("task_id", "user_id")
    )
    assigned_already = Notice.objects.filter(
        task=OuterRef("pk"), user=OuterRef("assignee_id"), kind=Notice.Kind.DUE_SOON
    )
    assigned = due.filter(assignee__isnull=False).exclude(Exists(assigned_already)).values_list("pk", "assignee_id")
    pairs = {*offered, *assigned}
    Notice.objects.bulk_create(
        [Notice(task_id=task_id, user_id=user_id, kind=Notice.Kind.DUE_SOON) for task_id, user_id in pairs],
        ignore_conflicts=True,
    )
    return list(
        User.objects.filter(pk__in={user_id for _task, user_id in pairs}, is_active=True, email_digest=False)
        .exclude(email="")
        .values_list("pk", flat=True)
    )


def _pending(user: User) -> Any:
    return (
        Notice.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(user=user, sent_at__isnull=True)
        .select_related("task__instance__definition")
        .defer("task__instance__state", "task__instance__definition__spec", "task__instance__definition__bpmn_xml")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def notices_send(*, user_id: int, digest: bool = False, now: datetime | None = None) -> int:
    """E-mail the person's pending notices in one message; safe to retry (sent notices are marked in the same
    transaction, so a failed send leaves them pending). Returns how many notices the e-mail carried."""
    moment = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    pending = list(_pending(user))
    current = [n for n in pending if n.task.status == HumanTask.Status.OPEN]
    if pending:
        # Notices about tasks that closed meanwhile are settled without mail: nothing is left to do for them.
        Notice.objects.filter(pk__in=[n.pk for n in pending]).update(sent_at=moment)
    if not current:
        return 0
    open_tasks = inbox(user).count() if digest else 0
    notice_email(user=user, notices=current, digest=digest, open_tasks=open_tasks).send()
    return len(current)


def digest_recipients(*, now: datetime | None = None) -> list[int]:
    """People who chose the daily digest and have pending notices."""
    pending = Notice.objects.filter(user=OuterRef("pk"), sent_at__isnull=True)
    return list(
        User.objects.filter(email_digest=True, is_active=True)
        .exclude(email="")
        .filter(Exists(pending))
        .values_list("pk", flat=True)
    )


@transaction.atomic
def notices_prune(*, older_than: timedelta = timedelta(days=90), now: datetime | None = None) -> int:
    """Forget sent notices of long-closed tasks (they only stop duplicates while a task is open)."""
    moment = now or timezone.now()
    stale = Notice.objects.filter(sent_at__lt=moment - older_than).exclude(task__status=HumanTask.Status.OPEN)
    deleted, _rows = stale.delete()
    return deleted
