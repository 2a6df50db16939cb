"""Celery tasks of login requests: they take ids and call services (enqueued once the step commits)."""

from __future__ import annotations

from celery import shared_task

from backend.core.retrying import retrying
from backend.documents.exceptions import ConversionTimedOut, ConverterUnavailable


@shared_task(
    name="backend.access.tasks.sign_memo",
    soft_time_limit=240,
    time_limit=270,
    # Generating a memo not generated yet needs the converter; when it is down the signature waits for it.
    **retrying(ConverterUnavailable, ConversionTimedOut, max_retries=5, backoff=10),
)
def sign_memo(request_id: int, signer_id: int) -> bool:
    """Sign the head of department's memo and tell the case (idempotent: a signed memo is left alone)."""
    from .memo import memo_sign_now

    return memo_sign_now(request_id=request_id, signer_id=signer_id)


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
