"""A long case saves what changed: finished tasks move once to segments, and the case loads back whole."""

import json

import pytest

from backend.workflow import engine, services
from backend.workflow.models import HumanTask, ProcessInstance, StateSegment
from backend.workflow.selectors import instance_trail
from tests.conftest import user

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}
FINISHED = 64 | 128 | 256  # TaskState.COMPLETED | CANCELLED | ERROR, as the engine stores them


def finished_in_state(instance: ProcessInstance) -> int:
    stored = ProcessInstance.objects.get(pk=instance.pk)
    return sum(1 for task in json.loads(stored.state)["tasks"].values() if task["state"] & FINISHED)


def open_task(instance: ProcessInstance) -> HumanTask:
    return HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)


def test_a_long_case_writes_its_finished_tasks_once_and_loads_back_whole(
    engine_test_process: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "SEGMENT_AFTER", 8)
    teacher, head = user("teacher1"), user("department_head1")
    instance = services.instance_start(process_key="qujat_engine_test", user=teacher, data=dict(START))
    rounds = 12
    for _ in range(rounds):
        # Every operation here loads the case from the database (state and segments): nothing commits in a test.
        services.task_complete(task_id=open_task(instance).pk, user=teacher, data={"title": "x", "days": 1})
        services.task_complete(
            task_id=open_task(instance).pk, user=head, data={"decision": "return", "comment": "again"}
        )
        assert finished_in_state(instance) < 8  # the state holds no more than a segment's worth of history

    segments = StateSegment.objects.filter(instance=instance).count()
    assert segments >= 5
    assert ProcessInstance.objects.get(pk=instance.pk).state_segments == segments

    services.task_complete(task_id=open_task(instance).pk, user=teacher, data={"title": "x", "days": 1})
    services.task_complete(task_id=open_task(instance).pk, user=head, data={"decision": "approve"})
    for task in HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN):
        who = "school_dean1" if task.spec_id == "dean_check" else "registrar_staff1"
        services.task_complete(task_id=task.pk, user=user(who), data={"ok": True})

    finished = ProcessInstance.objects.get(pk=instance.pk)
    assert finished.status == ProcessInstance.Status.COMPLETED
    assert finished.data["rounds"] == rounds + 1
    assert finished.data["returns"] == rounds
    trail = instance_trail(finished)
    assert sum(1 for step in trail if step.spec_id == "review" and step.state == "completed") == rounds + 1
