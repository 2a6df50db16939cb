"""What a Celery task retries, and how: the one policy every task of the product uses.

A transient error says nothing about the work and everything about a connection: the database went away
(`OperationalError`, `InterfaceError` — a restart, a failover, a terminated backend) or the mail server did not
answer (`smtplib.SMTPException` and socket errors are `OSError`s). The task is retried with exponential backoff
and jitter; Celery's Django fixup closes unusable connections before each run, so the retry starts afresh.
Every task is written to be safe to run twice, since a retry (or a redelivery after a lost worker) may repeat
what a first run did before it failed.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

TRANSIENT_DATABASE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
TRANSIENT_MAIL: tuple[type[BaseException], ...] = (OSError,)  # smtplib.SMTPException is an OSError


def retrying(*errors: type[BaseException], max_retries: int = 8, backoff: int = 5) -> dict[str, Any]:
    """Keyword arguments of `shared_task`: retry the given transient errors (and the database's) with backoff."""
    return {
        "autoretry_for": tuple(dict.fromkeys((*TRANSIENT_DATABASE, *errors))),
        "max_retries": max_retries,
        "retry_backoff": backoff,
        "retry_backoff_max": 600,
        "retry_jitter": True,
    }
