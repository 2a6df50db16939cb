"""Cases and tasks with chosen times, so every figure of the monitor has a known answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from backend.accounts.models import User
from backend.monitor.sketch import RELATIVE_ERROR
from backend.workflow.history import history_record
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance

ALMATY = ZoneInfo("Asia/Almaty")


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """A local moment in Almaty, e.g. at("2026-02-09", 9)."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ALMATY)


def make_case(
    process_key: str = "journal_reopen",
    *,
    started: datetime,
    finished: datetime | None = None,
    status: str = ProcessInstance.Status.RUNNING,
    department: str = "dept-anatomy",
) -> ProcessInstance:
    definition = ProcessDefinition.objects.filter(key=process_key).order_by("-version").first()
    assert definition is not None
    if finished is not None and status == ProcessInstance.Status.RUNNING:
        status = ProcessInstance.Status.COMPLETED
    instance = ProcessInstance.objects.create(
        definition=definition, process_key=process_key, status=status, data={"department": department}
    )
    ProcessInstance.objects.filter(pk=instance.pk).update(started_at=started, completed_at=finished)
    instance.refresh_from_db()
    return instance


def make_task(
    instance: ProcessInstance,
    spec_id: str = "head_visa",
    *,
    created: datetime,
    completed: datetime | None = None,
    due: datetime | None = None,
    status: str | None = None,
    role: str = "department_head",
    assignee: User | None = None,
) -> HumanTask:
    task = HumanTask.objects.create(
        instance=instance,
        engine_task_id=uuid4(),
        spec_id=spec_id,
        process_key=instance.process_key,
        title={"en": spec_id},
        role=role,
        status=status or (HumanTask.Status.COMPLETED if completed else HumanTask.Status.OPEN),
        due_at=due,
        completed_at=completed,
        assignee=assignee,
    )
    HumanTask.objects.filter(pk=task.pk).update(created_at=created)
    task.refresh_from_db()
    return task


def event(instance: ProcessInstance, kind: str, when: datetime, payload: dict[str, Any] | None = None) -> None:
    recorded = history_record(instance=instance, kind=kind, payload=payload or {})
    HistoryEvent.objects.filter(pk=recorded.pk).update(at=when)


@pytest.fixture
def case_factory(demo: None) -> Callable[..., ProcessInstance]:
    return make_case


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def sketched(exact: float) -> Any:
    """A percentile as the monitor shows it: from merged histograms, within the sketch's relative error of
    the exact `percentile_cont` (and the rounding to hundredths)."""
    return pytest.approx(exact, rel=RELATIVE_ERROR, abs=0.005)
