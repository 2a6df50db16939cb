"""Listens to the engine's task signals (sent once its transaction has committed) and queues the e-mails."""

from __future__ import annotations

import logging
from typing import Any

from backend.workflow import signals

from .models import Notice

logger = logging.getLogger(__name__)


def _queue(task_id: int, kind: str) -> None:
    from .tasks import notify_task

    try:
        notify_task.delay(task_id, kind)
    except Exception:  # the engine's change is committed; a lost e-mail must not look like a failed approval
        logger.exception("could not queue the %s notice of task %s", kind, task_id)


def on_task_created(sender: Any, task_id: int, **kwargs: Any) -> None:
    _queue(task_id, Notice.Kind.NEW)


def on_task_reminder(sender: Any, task_id: int, **kwargs: Any) -> None:
    _queue(task_id, Notice.Kind.REMINDER)


def on_task_escalated(sender: Any, task_id: int, **kwargs: Any) -> None:
    _queue(task_id, Notice.Kind.ESCALATED)


def connect() -> None:
    signals.task_created.connect(on_task_created, dispatch_uid="inbox.task_created")
    signals.task_reminder.connect(on_task_reminder, dispatch_uid="inbox.task_reminder")
    signals.task_escalated.connect(on_task_escalated, dispatch_uid="inbox.task_escalated")
