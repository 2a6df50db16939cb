"""Background jobs made of items: bulk approval, batch issuing, batch signing, evidence sets, group accounts.

One mechanism for every multi-item job:

- A job is created with its items in the caller's transaction (`job_start`) and enqueued when that commits.
- Each item is done in its own transaction that also marks the item done and moves the job's counters, under
  the item's row lock: a job delivered twice, or run by two workers at once, does each item exactly once.
- A kind registered `parallel` (batch signing: each item is independent, CPU-bound work) is sent to
  QUJAT_JOB_RUNNERS workers at once (the worker's --concurrency); other kinds to one. Each run takes the next item
  no other run holds (SKIP LOCKED on PostgreSQL), so a batch goes as many times faster as there are cores, then
  waits for the items others held (done by them, or by this run if theirs died). On SQLite the write lock taken
  at BEGIN makes the runs take turns; nothing is done twice either way.
- One item's failure (an `ApplicationError`, or anything unexpected) is recorded with its reason and does not
  stop or undo the others. A lost database connection stops the run; Celery retries it with backoff and the
  run carries on with the items still waiting.
- A job that shows no sign of life (its worker was killed, its message lost) is found by `jobs_sweep` (Celery
  beat) and enqueued again; after `MAX_RUNS` it is finished with its waiting items failed, visibly, and the
  person who started it can retry the failed items.

A kind registers what one item does (`register_job_kind`); the item's work must be idempotent in its own
right only in what it does outside the database (an e-mail, a file): the database part is exactly-once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backend.accounts.models import User

from .exceptions import ApplicationError, Conflict, Forbidden, NotFound
from .models import Job, JobItem

logger = logging.getLogger(__name__)

# A run is given up for lost when its job has shown no sign of life for this long (every item beats).
STALL_AFTER = timedelta(seconds=getattr(settings, "QUJAT_JOB_STALL_SECONDS", 300))
MAX_RUNS = 5
# Errors that say nothing about the item and everything about the connection: the run stops and is retried.
TRANSIENT = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class JobKind:
    name: str
    run_item: Callable[[Job, JobItem], dict[str, Any] | None]
    may_view: Callable[[User, Job], bool] | None = None
    on_finish: Callable[[Job], None] | None = None
    after_run: Callable[[Job], None] | None = None
    parallel: bool = False


_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    name: str,
    *,
    run_item: Callable[[Job, JobItem], dict[str, Any] | None],
    may_view: Callable[[User, Job], bool] | None = None,
    on_finish: Callable[[Job], None] | None = None,
    after_run: Callable[[Job], None] | None = None,
    parallel: bool = False,
) -> None:
    """Register what one item of a kind of job does; `run_item` returns the item's result (e.g. {"url": …}).

    `on_finish` runs once, when the job's last item is done; `after_run` at the end of every run, in the process
    that ran it (to forget what that process kept in memory for the job's items). A `parallel` kind's jobs are
    run by QUJAT_JOB_RUNNERS worker processes at once.
    """
    _KINDS[name] = JobKind(name, run_item, may_view, on_finish, after_run, parallel)


def job_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered") from None


def _enqueue(job_id: int, kind: str) -> None:
    """Send the job to a worker (a parallel kind's to QUJAT_JOB_RUNNERS at once); `attempts` counts sendings."""
    from .tasks import run_job

    Job.objects.filter(pk=job_id).update(attempts=F("attempts") + 1)
    for _runner in range(max(1, settings.QUJAT_JOB_RUNNERS) if job_kind(kind).parallel else 1):
        run_job.delay(job_id)


def job_start(
    *,
    kind: str,
    owner: User | None,
    title: dict[str, str],
    items: Iterable[tuple[str, dict[str, str]]],
    params: dict[str, Any] | None = None,
    back_url: str = "",
) -> Job:
    """Create a job with its items (key, label in kk/ru/en) in the caller's transaction; it runs once that commits."""
    job_kind(kind)  # refuse an unknown kind before anything is stored
    with transaction.atomic():
        job = Job.objects.create(kind=kind, owner=owner, title=title, params=params or {}, back_url=back_url)
        rows = [JobItem(job=job, position=n, key=str(key), label=label) for n, (key, label) in enumerate(items)]
        JobItem.objects.bulk_create(rows)
        Job.objects.filter(pk=job.pk).update(total=len(rows))
        job.total = len(rows)
        transaction.on_commit(lambda: _enqueue(job.pk, kind))
    return job


def _run_item(job: Job, kind: JobKind, item_id: int, *, skip_locked: bool) -> None:
    now = timezone.now()
    with transaction.atomic():
        pending = JobItem.objects.filter(pk=item_id, status=JobItem.Status.PENDING)
        # The item's row alone (JobItem is ordered by its job: a plain .first() would lock the job's row too, which
        # every item's counter update holds, and make the runs skip, or wait for, each other's items).
        item = pending.order_by("pk").select_for_update(skip_locked=skip_locked, of=("self",)).first()
        if item is None:
            return  # done by an earlier delivery, or (skip_locked) being done by a run on another worker
        try:
            with transaction.atomic():
                result = kind.run_item(job, item) or {}
        except TRANSIENT:
            raise
        except ApplicationError as error:
            item.status, item.message = JobItem.Status.FAILED, error.message
        except Exception:
            logger.exception("job %s (%s): item %s failed", job.pk, job.kind, item.key)
            item.status = JobItem.Status.FAILED
            item.message = _("An unexpected error stopped this item; the administrators can see it in the log.")
        else:
            item.status, item.result = JobItem.Status.DONE, result
        item.finished_at = now
        item.save(update_fields=["status", "message", "result", "finished_at"])
        counter = "done" if item.status == JobItem.Status.DONE else "failed"
        Job.objects.filter(pk=job.pk).update(**{counter: F(counter) + 1, "heartbeat_at": now})


def job_run(*, job_id: int) -> Job | None:
    """Do every waiting item of the job; safe to call again, and at the same time from another worker."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.finished:
        return job
    kind = job_kind(job.kind)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=job.started_at or now, heartbeat_at=now)
    language = job.owner.language if job.owner else settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            waiting = job.items.filter(status=JobItem.Status.PENDING).order_by("position").values_list("pk", flat=True)
            for item_id in list(waiting):
                _run_item(job, kind, item_id, skip_locked=True)
            # What another run held: wait for each. Its run commits it (then it is skipped here), or that run died
            # and its transaction is rolled back (then it is done here) — a run never ends leaving an item behind
            # that nothing would pick up before the sweeper's round.
            for item_id in list(waiting.all()):
                _run_item(job, kind, item_id, skip_locked=False)
            return _job_finish(job.pk, kind)
    finally:
        if kind.after_run is not None:
            kind.after_run(job)


def _job_finish(job_id: int, kind: JobKind) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished or job.items.filter(status=JobItem.Status.PENDING).exists():
            return job  # another run finished it, or still has items to do
        job.done = job.items.filter(status=JobItem.Status.DONE).count()
        job.failed = job.items.filter(status=JobItem.Status.FAILED).count()
        job.status = Job.Status.FAILED if job.failed else Job.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["done", "failed", "status", "finished_at"])
        if kind.on_finish is not None:
            kind.on_finish(job)
    return job


def job_visible(*, job_id: int, user: User) -> Job:
    """The job, to the person who started it, a superuser, or whoever its kind lets see it; else not found."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("There is no such job."))
    if job.owner_id == user.pk or user.is_superuser:
        return job
    kind = _KINDS.get(job.kind)
    if kind is not None and kind.may_view is not None and kind.may_view(user, job):
        return job
    raise NotFound(_("There is no such job."))


@transaction.atomic
def job_retry_failed(*, job_id: int, user: User) -> Job:
    """Put the failed items of a finished job back in the queue (after what made them fail was fixed)."""
    job = job_visible(job_id=job_id, user=user)
    if job.owner_id != user.pk and not user.is_superuser:
        raise Forbidden(_("Only the person who started this job can run it again."))
    job = Job.objects.select_for_update().get(pk=job.pk)
    failed = job.items.filter(status=JobItem.Status.FAILED)
    if not job.finished or not failed.exists():
        raise Conflict(_("Only a finished job with failed items can be retried."))
    count = failed.update(status=JobItem.Status.PENDING, message="", finished_at=None)
    job.status, job.failed, job.finished_at, job.attempts = Job.Status.QUEUED, job.failed - count, None, 0
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "failed", "finished_at", "attempts", "heartbeat_at"])
    transaction.on_commit(lambda: _enqueue(job.pk, job.kind))
    return job


def jobs_sweep(*, now: datetime | None = None) -> int:
    """Enqueue again every unfinished job that shows no sign of life; give up on it after MAX_RUNS runs."""
    moment = now or timezone.now()
    stalled = Q(heartbeat_at__lt=moment - STALL_AFTER) | Q(
        heartbeat_at__isnull=True, created_at__lt=moment - STALL_AFTER
    )
    resumed = 0
    with transaction.atomic():
        # SKIP LOCKED: two schedulers by mistake never enqueue one job twice in the same sweep.
        jobs = list(
            Job.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("owner")
            .filter(stalled, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
            .order_by("pk")[:200]
        )
        for job in jobs:
            if job.attempts >= MAX_RUNS:
                job.items.filter(status=JobItem.Status.PENDING).update(
                    status=JobItem.Status.FAILED,
                    message=_("Stopped after %(runs)s attempts that did not finish; retry it.")
                    % {"runs": job.attempts},
                    finished_at=moment,
                )
                job.done = job.items.filter(status=JobItem.Status.DONE).count()
                job.failed = job.items.filter(status=JobItem.Status.FAILED).count()
                job.status, job.finished_at = Job.Status.FAILED, moment
                job.save(update_fields=["done", "failed", "status", "finished_at"])
                logger.error("job %s (%s) given up after %s runs", job.pk, job.kind, job.attempts)
                continue
            Job.objects.filter(pk=job.pk).update(heartbeat_at=moment)
            transaction.on_commit(lambda job_id=job.pk, kind=job.kind: _enqueue(job_id, kind))  # type: ignore[misc]
            logger.warning("job %s (%s) showed no sign of life; enqueued again", job.pk, job.kind)
            resumed += 1
    return resumed
