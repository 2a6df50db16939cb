"""Forms, permissions, incidents and operations (suspend, resume, cancel, retry)."""

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from backend.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.workflow import services
from backend.workflow.deployment import deploy_file
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance
from tests.conftest import user
from tests.workflow.conftest import diagram_variant

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


def start() -> ProcessInstance:
    return services.instance_start(process_key="qujat_engine_test", user=user("teacher1"), data=dict(START))


def open_task(instance: ProcessInstance) -> HumanTask:
    return HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)


def test_every_case_gets_its_own_readable_number(engine_test_process: object) -> None:
    first, second = start(), start()
    year = timezone.localdate(first.started_at).year
    assert first.number == f"ET-{year}-{first.pk:06d}"
    assert ProcessInstance.objects.get(pk=second.pk).number == f"ET-{year}-{second.pk:06d}"
    assert str(first) == first.number


def test_bad_input_gets_field_messages_and_changes_nothing(engine_test_process: object) -> None:
    instance = start()
    task = open_task(instance)
    version = ProcessInstance.objects.get(pk=instance.pk).version

    with pytest.raises(ValidationFailed) as refused:
        services.task_complete(task_id=task.pk, user=user("teacher1"), data={"days": "many", "extra": 1})

    assert refused.value.fields == {
        "title": ["This field is required."],
        "days": ["Enter a whole number."],
        "extra": ["This form has no such field."],
    }
    task.refresh_from_db()
    assert task.status == HumanTask.Status.OPEN
    assert ProcessInstance.objects.get(pk=instance.pk).version == version


def test_a_conditional_requirement_names_its_field(engine_test_process: object) -> None:
    instance = start()
    services.task_complete(task_id=open_task(instance).pk, user=user("teacher1"), data={"title": "x", "days": 1})
    review = open_task(instance)
    with pytest.raises(ValidationFailed) as refused:
        services.task_complete(task_id=review.pk, user=user("department_head1"), data={"decision": "return"})
    assert refused.value.fields == {"comment": ["This field is required."]}


def test_strangers_cannot_see_or_act(engine_test_process: object) -> None:
    instance = start()
    task = open_task(instance)
    with pytest.raises(NotFound):
        services.task_complete(task_id=task.pk, user=user("teacher3"), data={"title": "x", "days": 1})
    with pytest.raises(NotFound):
        services.task_claim(task_id=task.pk, user=user("student1"))
    # The head of another department sees nothing either, even once the review exists.
    services.task_complete(task_id=task.pk, user=user("teacher1"), data={"title": "x", "days": 1})
    with pytest.raises(NotFound):
        services.task_complete(
            task_id=open_task(instance).pk, user=user("department_head3"), data={"decision": "approve"}
        )


def test_a_participant_who_may_not_act_is_refused(engine_test_process: object) -> None:
    instance = start()
    services.task_complete(task_id=open_task(instance).pk, user=user("teacher1"), data={"title": "x", "days": 1})
    review = open_task(instance)
    # The requester can see the case but not approve their own request.
    with pytest.raises(Forbidden):
        services.task_complete(task_id=review.pk, user=user("teacher1"), data={"decision": "approve"})


def test_completing_twice_is_a_conflict(engine_test_process: object) -> None:
    instance = start()
    task = open_task(instance)
    services.task_complete(task_id=task.pk, user=user("teacher1"), data={"title": "x", "days": 1})
    with pytest.raises(Conflict):
        services.task_complete(task_id=task.pk, user=user("teacher1"), data={"title": "y", "days": 2})


def test_claim_and_release(engine_test_process: object) -> None:
    instance = start()
    services.task_complete(task_id=open_task(instance).pk, user=user("teacher1"), data={"title": "x", "days": 1})
    services.task_complete(task_id=open_task(instance).pk, user=user("department_head1"), data={"decision": "approve"})
    registrar = HumanTask.objects.get(instance=instance, spec_id="registrar_check")
    services.task_claim(task_id=registrar.pk, user=user("registrar_staff1"))
    with pytest.raises(Conflict):
        services.task_claim(task_id=registrar.pk, user=user("registrar_staff2"))
    with pytest.raises(Forbidden):
        services.task_complete(task_id=registrar.pk, user=user("registrar_staff2"), data={"ok": True})
    services.task_release(task_id=registrar.pk, user=user("registrar_staff1"))
    services.task_complete(task_id=registrar.pk, user=user("registrar_staff2"), data={"ok": True})
    kinds = list(HistoryEvent.objects.filter(instance=instance).values_list("kind", flat=True))
    assert [k for k in kinds if k in ("claimed", "released")] == ["claimed", "released"]


def test_a_failing_script_is_an_incident_that_an_operator_retries(engine_test_process: object, tmp_path: Path) -> None:
    failing = diagram_variant(
        tmp_path, "failing.bpmn", "priority = 2 if days &gt; 3 else 1", "priority = 2 if days &gt; limit else 1"
    )
    # The diagram declares `limit` as start data (deployment accepts it), but the start does not bring it.
    failing.write_text(failing.read_text().replace('value="department school', 'value="limit department school'))
    deploy_file(failing)
    instance = start()
    services.task_complete(task_id=open_task(instance).pk, user=user("teacher1"), data={"title": "x", "days": 5})

    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.ERROR
    assert "count" in instance.incident
    assert "limit" in instance.incident
    error = HistoryEvent.objects.get(instance=instance, kind="error")
    assert error.payload["task"] == "count"
    assert not HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN).exists()

    with pytest.raises(Forbidden):
        services.instance_retry(instance_id=instance.pk, user=user("teacher1"))
    services.instance_retry(instance_id=instance.pk, user=user("registrar_head1"), data={"limit": 3})

    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.RUNNING
    assert instance.data["priority"] == 2
    assert open_task(instance).spec_id == "review"


def test_suspend_resume_and_cancel_need_an_operator_and_cancel_needs_a_reason(engine_test_process: object) -> None:
    instance = start()
    task = open_task(instance)
    with pytest.raises(Forbidden):
        services.instance_suspend(instance_id=instance.pk, user=user("teacher1"))
    services.instance_suspend(instance_id=instance.pk, user=user("registrar_head1"), reason="audit")
    with pytest.raises(Conflict):
        services.task_complete(task_id=task.pk, user=user("teacher1"), data={"title": "x", "days": 1})
    services.instance_resume(instance_id=instance.pk, user=user("registrar_head1"))
    with pytest.raises(ValidationFailed):
        services.instance_cancel(instance_id=instance.pk, user=user("registrar_head1"), reason=" ")
    services.instance_cancel(instance_id=instance.pk, user=user("registrar_head1"), reason="Duplicate request")
    instance.refresh_from_db()
    task.refresh_from_db()
    assert instance.status == ProcessInstance.Status.CANCELLED
    assert task.status == HumanTask.Status.CANCELLED
    kinds = list(HistoryEvent.objects.filter(instance=instance).values_list("kind", flat=True))
    assert {"suspended", "resumed", "cancelled"} <= set(kinds)


def test_tasks_follow_a_new_acting_head(engine_test_process: object) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from backend.accounts.models import Substitution

    instance = start()
    services.task_complete(task_id=open_task(instance).pk, user=user("teacher1"), data={"title": "x", "days": 1})
    review = open_task(instance)
    today = timezone.localdate()
    Substitution.objects.create(
        absent=user("department_head1"), substitute=user("teacher3"), starts_on=today, ends_on=today + timedelta(days=7)
    )
    services.tasks_reroute(role="department_head")
    candidate = review.candidates.get(user=user("teacher3"))
    assert candidate.acting_for == user("department_head1")
    services.task_complete(task_id=review.pk, user=user("teacher3"), data={"decision": "approve"})
    review.refresh_from_db()
    assert review.completed_for == user("department_head1")
    completed = HistoryEvent.objects.filter(instance=instance, kind="completed").last()
    assert completed.payload["acting_for"] == "department_head1"


def test_a_leavers_tasks_are_handed_over_with_the_notice_a_delegation_sends(
    engine_test_process: object, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from backend.accounts.models import OrgUnit
    from tests.factories import RoleAssignmentFactory

    # Given a task only teacher1 may do, and one offered to two heads of the department
    RoleAssignmentFactory(
        user=user("department_head2"), role="department_head", org_unit=OrgUnit.objects.get(code="dept-anatomy")
    )
    mine = start()
    write = open_task(mine)
    other = start()
    services.task_complete(task_id=open_task(other).pk, user=user("teacher1"), data={"title": "x", "days": 1})
    review = open_task(other)
    assert set(review.candidates.values_list("user__username", flat=True)) == {"department_head1", "department_head2"}
    leaving, colleague = user("department_head1"), user("department_head2")

    # When teacher1's and the first head's tasks are handed over
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.tasks_hand_over(
            from_user=user("teacher1"), to_user=colleague, actor=user("it_staff1"), reason="account_deactivated"
        )
        shared = services.tasks_hand_over(
            from_user=leaving, to_user=colleague, actor=user("it_staff1"), reason="account_deactivated"
        )

    # Then the task only teacher1 could do is the colleague's, in the case's history, and they are told
    write.refresh_from_db()
    assert (moved, write.assignee) == (1, colleague)
    event = HistoryEvent.objects.get(instance=mine, kind="delegated")
    assert event.payload == {
        "task": write.pk,
        "to": colleague.username,
        "from": "teacher1",
        "reason": "account_deactivated",
    }
    assert event.actor == user("it_staff1")
    assert [m for m in mail.outbox if m.to == [colleague.email]]
    # and the shared one just loses the head who left
    assert shared == 0
    review.refresh_from_db()
    assert review.assignee is None
    assert leaving.username not in set(review.candidates.values_list("user__username", flat=True))
    changed = HistoryEvent.objects.get(instance=other, kind="candidates_changed")
    assert changed.payload["removed"] == leaving.username
