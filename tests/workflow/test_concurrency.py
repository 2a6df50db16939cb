"""Two people completing one task at the same moment: exactly one wins, the other gets a conflict."""

import threading
from pathlib import Path

import pytest
from django.db import connection

from backend.core.exceptions import Conflict
from backend.workflow import services
from backend.workflow.deployment import deploy_file
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance
from tests.conftest import user

DIAGRAM = Path(__file__).with_name("engine_test.bpmn")


def race(task_id: int, usernames: list[str], data: dict[str, object]) -> list[str]:
    barrier = threading.Barrier(len(usernames))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(username: str) -> None:
        try:
            person = user(username)
            barrier.wait()
            services.task_complete(task_id=task_id, user=person, data=data)
            result = "ok"
        except Conflict:
            result = "conflict"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_completions_of_one_task(transactional_demo: None, attempt: int) -> None:
    assert connection.vendor == "postgresql"
    deploy_file(DIAGRAM)
    instance = services.instance_start(
        process_key="qujat_engine_test",
        user=user("teacher1"),
        data={"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0},
    )
    services.task_complete(
        task_id=HumanTask.objects.get(instance=instance, status="open").pk,
        user=user("teacher1"),
        data={"title": "x", "days": 1},
    )
    services.task_complete(
        task_id=HumanTask.objects.get(instance=instance, status="open").pk,
        user=user("department_head1"),
        data={"decision": "approve"},
    )
    registrar_task = HumanTask.objects.get(instance=instance, spec_id="registrar_check")

    assert race(registrar_task.pk, ["registrar_staff1", "registrar_staff2"], {"ok": True}) == ["conflict", "ok"]

    registrar_task.refresh_from_db()
    assert registrar_task.status == HumanTask.Status.COMPLETED
    completions = HistoryEvent.objects.filter(instance=instance, kind="completed", payload__spec="registrar_check")
    assert completions.count() == 1  # applied once, nothing lost
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.RUNNING
    assert [t.spec_id for t in HumanTask.objects.filter(instance=instance, status="open")] == ["dean_check"]
