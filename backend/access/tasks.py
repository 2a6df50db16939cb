"""Celery tasks of login requests: they take ids and call services (enqueued once the step commits)."""

from __future__ import annotations

from celery import shared_task

from backend.core.retrying import retrying


@shared_task(
    name="backend.access.tasks.create_group_accounts",
    soft_time_limit=1700,
    time_limit=1800,
    # A database hiccup stops the run; the retry skips the students already done.
    **retrying(backoff=10),
)
def create_group_accounts(request_id: int) -> int:
    """Create a student group's accounts one by one, counting progress (a retry resumes where it stopped)."""
    from .group_accounts import group_accounts_create

    return group_accounts_create(request_id=request_id)
