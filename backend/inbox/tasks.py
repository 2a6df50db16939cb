"""Background work of the inbox: e-mail notices about tasks, the hourly "due soon" run, the daily digests."""

from __future__ import annotations

from celery import shared_task

from backend.core.retrying import TRANSIENT_MAIL, retrying

from . import services


# Sending mail can fail for a moment (SMTP errors are OSErrors), and so can the database; every task here is safe
# to run again (a notice is marked sent in the transaction that sends it).
@shared_task(
    name="backend.inbox.tasks.notify_task",
    time_limit=120,
    soft_time_limit=100,
    **retrying(*TRANSIENT_MAIL, max_retries=6, backoff=30),
)
def notify_task(task_id: int, kind: str) -> int:
    """A task was offered, reminded or escalated: record notices and e-mail those who want mail at once."""
    sent = 0
    for user_id in services.notices_for_task(task_id=task_id, kind=kind):
        sent += services.notices_send(user_id=user_id)
    return sent


@shared_task(
    name="backend.inbox.tasks.send_due_soon_notices",
    time_limit=600,
    soft_time_limit=540,
    **retrying(*TRANSIENT_MAIL, max_retries=6, backoff=30),
)
def send_due_soon_notices() -> int:
    """Hourly: tell people about their tasks that fall due within 24 hours (once per task and person)."""
    sent = 0
    for user_id in services.notices_due_soon():
        sent += services.notices_send(user_id=user_id)
    return sent


@shared_task(
    name="backend.inbox.tasks.send_daily_digests",
    time_limit=1800,
    soft_time_limit=1700,
    **retrying(*TRANSIENT_MAIL, max_retries=6, backoff=30),
)
def send_daily_digests() -> int:
    """Daily: one e-mail to each person who chose the digest, with everything that waited for it."""
    sent = 0
    for user_id in services.digest_recipients():
        sent += services.notices_send(user_id=user_id, digest=True) > 0
    services.notices_prune()
    return sent
