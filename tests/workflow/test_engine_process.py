"""The engine's test process end to end: lanes with scopes, gateways, a loop back, a boundary timer, scripts,
separation of duties — with the instance reloaded from the database between every step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from backend.workflow import services
from backend.workflow.engine import RunningProcess
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, Timer
from backend.workflow.scripting import InstanceContext, Sandbox
from tests.conftest import user

pytestmark = pytest.mark.django_db

START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


def reloaded(instance: ProcessInstance) -> RunningProcess:
    """The instance as a fresh process would see it: state and spec read back from the database."""
    instance = ProcessInstance.objects.select_related("definition").get(pk=instance.pk)
    definition = instance.definition
    return RunningProcess.load(
        spec_key=f"reload-{definition.pk}-{instance.version}",
        load_bundle=lambda: ProcessDefinition.objects.get(pk=definition.pk).spec,
        state=instance.state,
        sandbox=Sandbox(InstanceContext(instance.pk, None)),
    )


def open_tasks(instance: ProcessInstance) -> dict[str, HumanTask]:
    tasks = HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN)
    projected = {t.spec_id: t for t in tasks}
    # The task table is a projection: it must match the engine state read back from the database.
    assert sorted(t.spec_id for t in reloaded(instance).ready_user_tasks()) == sorted(projected)
    return projected


def candidates(task: HumanTask) -> list[str]:
    return sorted(task.candidates.values_list("user__username", flat=True))


def complete(task: HumanTask, username: str, **data: Any) -> None:
    services.task_complete(task_id=task.pk, user=user(username), data=data)


def start(username: str = "teacher1") -> ProcessInstance:
    return services.instance_start(process_key="qujat_engine_test", user=user(username), data=dict(START))


def test_happy_path_through_lanes_scopes_and_a_parallel_split(engine_test_process: ProcessDefinition) -> None:
    instance = start()
    tasks = open_tasks(instance)
    assert list(tasks) == ["write"]
    assert tasks["write"].assignee == user("teacher1")  # the teacher lane goes to the requester

    complete(tasks["write"], "teacher1", title="Journal", days=5)
    tasks = open_tasks(instance)
    review = tasks["review"]
    assert candidates(review) == ["department_head1"]  # the head of *this* department (anatomy)
    assert review.org_unit.code == "dept-anatomy"
    assert review.priority == 2  # set by the script: days > 3
    assert review.due_at is not None

    complete(review, "department_head1", decision="approve")
    tasks = open_tasks(instance)
    assert set(tasks) == {"dean_check", "registrar_check"}
    assert candidates(tasks["dean_check"]) == ["school_dean1"]  # the dean of *this* school
    assert candidates(tasks["registrar_check"]) == ["registrar_staff1", "registrar_staff2"]

    complete(tasks["dean_check"], "school_dean1", ok=True)
    assert set(open_tasks(instance)) == {"registrar_check"}
    complete(tasks["registrar_check"], "registrar_staff2", ok=True)

    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance.data["rounds"] == 1
    assert open_tasks(instance) == {}
    kinds = list(HistoryEvent.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds[0] == "started"
    assert kinds[-1] == "finished"
    assert kinds.count("completed") == 4


def test_returning_loops_back_to_the_teacher_and_the_review_starts_again(
    engine_test_process: ProcessDefinition,
) -> None:
    instance = start()
    complete(open_tasks(instance)["write"], "teacher1", title="Journal", days=2)
    complete(open_tasks(instance)["review"], "department_head1", decision="return", comment="Add the date")

    tasks = open_tasks(instance)
    assert list(tasks) == ["write"]
    instance.refresh_from_db()
    assert instance.data["returns"] == 1

    complete(tasks["write"], "teacher1", title="Journal, with the date", days=2)
    review = open_tasks(instance)["review"]
    assert candidates(review) == ["department_head1"]
    instance.refresh_from_db()
    assert instance.data["rounds"] == 2
    assert instance.data["title"] == "Journal, with the date"


def test_the_boundary_timer_fires_and_interrupts_the_registrar_check(engine_test_process: ProcessDefinition) -> None:
    instance = start()
    complete(open_tasks(instance)["write"], "teacher1", title="Journal", days=1)
    complete(open_tasks(instance)["review"], "department_head1", decision="approve")
    registrar_task = open_tasks(instance)["registrar_check"]
    timer = Timer.objects.get(instance=instance, kind=Timer.Kind.BPMN, fired_at__isnull=True, cancelled=False)
    assert timedelta(minutes=59) < timer.due_at - timezone.now() <= timedelta(hours=1)

    assert services.timers_fire_due() == 0  # not yet due
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert services.timers_fire_due() >= 1
        assert services.timers_fire_due() == 0  # fired once, never twice

    registrar_task.refresh_from_db()
    assert registrar_task.status == HumanTask.Status.CANCELLED
    assert set(open_tasks(instance)) == {"dean_check"}
    instance.refresh_from_db()
    assert instance.data["escalated"] is True
    assert HistoryEvent.objects.filter(instance=instance, kind="timer_fired").count() == 1

    complete(open_tasks(instance)["dean_check"], "school_dean1", ok=True)
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED


def test_a_head_who_started_the_case_as_a_teacher_cannot_approve_it(engine_test_process: ProcessDefinition) -> None:
    instance = start("department_head1")
    complete(open_tasks(instance)["write"], "department_head1", title="My own journal", days=1)
    review = open_tasks(instance)["review"]

    # Separation of duties: the anatomy department's deputy head gets the review, not its head.
    assert candidates(review) == ["teacher2"]
    created = HistoryEvent.objects.filter(instance=instance, kind="task_created").last()
    assert created.payload["candidates"] == [{"user": "teacher2", "acting_for": None}]
    with pytest.raises(services.Forbidden):
        complete(review, "department_head1", decision="approve")
    complete(review, "teacher2", decision="approve")
    assert set(open_tasks(instance)) == {"dean_check", "registrar_check"}


def test_without_a_deputy_the_level_above_approves(engine_test_process: ProcessDefinition) -> None:
    data = {**START, "department": "dept-internal"}
    instance = services.instance_start(process_key="qujat_engine_test", user=user("department_head2"), data=data)
    complete(open_tasks(instance)["write"], "department_head2", title="Mine", days=1)
    assert candidates(open_tasks(instance)["review"]) == ["dean_curation1"]


def test_the_sla_reminds_at_half_time_and_escalates_when_overdue(engine_test_process: ProcessDefinition) -> None:
    instance = start()
    complete(open_tasks(instance)["write"], "teacher1", title="Journal", days=1)
    review = open_tasks(instance)["review"]
    kinds = dict(Timer.objects.filter(task=review).values_list("kind", "due_at"))
    assert kinds[Timer.Kind.ESCALATION] == review.due_at
    assert kinds[Timer.Kind.REMINDER] < review.due_at

    with time_machine.travel(kinds[Timer.Kind.REMINDER] + timedelta(minutes=1)):
        services.timers_fire_due()
    assert HistoryEvent.objects.filter(instance=instance, kind="reminder").count() == 1
    with time_machine.travel(review.due_at + timedelta(minutes=1)):
        services.timers_fire_due()
    escalated = HistoryEvent.objects.get(instance=instance, kind="escalated")
    assert escalated.payload["to_role"] == "school_dean"
    assert candidates(review) == ["department_head1", "school_dean1"]
    complete(review, "school_dean1", decision="approve")  # the level above can now act


def test_the_history_records_who_did_what(engine_test_process: ProcessDefinition) -> None:
    instance = start()
    complete(open_tasks(instance)["write"], "teacher1", title="Journal", days=1)
    completed = HistoryEvent.objects.get(instance=instance, kind="completed")
    assert completed.actor == user("teacher1")
    assert completed.payload["data"] == {"title": "Journal", "days": 1}
    seqs = list(HistoryEvent.objects.filter(instance=instance).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
