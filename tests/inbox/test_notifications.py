"""E-mail about tasks: sent after the engine's transaction commits, in each person's language, once per event;
the daily digest replaces them for those who chose it; the header counts tasks not opened yet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from backend.inbox import tasks
from backend.inbox.models import Notice
from backend.workflow import services
from backend.workflow.models import HumanTask, ProcessDefinition, Timer
from tests.conftest import user
from tests.inbox.conftest import open_task, start_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what the engine does on commit (its signals), as a real request would."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def to(username: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [user(username).email]]


def test_a_new_task_is_mailed_after_commit_in_the_persons_language(
    engine_test_process: ProcessDefinition, committed: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.QUJAT_SITE_URL = "https://qujat.example.kz"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        instance = start_case()
    assert mail.outbox == []  # nothing is sent inside the engine's transaction
    for callback in callbacks:
        callback()
    review = open_task(instance, "review")
    [message] = to("department_head1")
    assert user("department_head1").language == "ru"
    assert "Рассмотрение заведующим" in message.subject  # the task's title in the head's language
    assert f"https://qujat.example.kz/tasks/{review.pk}/" in message.body
    assert user("department_head1").full_name in message.body
    assert Notice.objects.filter(task=review, user=user("department_head1"), sent_at__isnull=False).count() == 1
    assert to("teacher1") == []  # the teacher's "write" task was done before anything was sent: no mail


def test_the_teacher_hears_in_kazakh(engine_test_process: ProcessDefinition, committed: Any) -> None:
    data = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}
    committed(services.instance_start, process_key="qujat_engine_test", user=user("teacher1"), data=data)
    assert user("teacher1").language == "kk"
    [message] = to("teacher1")
    assert "Өтінішті жазу" in message.subject


def test_every_colleague_offered_a_task_hears_of_it_and_a_delegate_too(
    engine_test_process: ProcessDefinition, committed: Any
) -> None:
    instance = committed(start_case)
    review = open_task(instance, "review")
    committed(services.task_complete, task_id=review.pk, user=user("department_head1"), data={"decision": "approve"})
    assert len(to("registrar_staff1")) == len(to("registrar_staff2")) == 1
    assert len(to("school_dean1")) == 1
    check = open_task(instance, "registrar_check")
    committed(services.task_delegate, task_id=check.pk, user=user("registrar_staff1"), to_user=user("registrar_staff2"))
    assert len(to("registrar_staff2")) == 1  # already told about this task: not twice


def test_digest_users_get_one_mail_a_day_instead(engine_test_process: ProcessDefinition, committed: Any) -> None:
    head = user("department_head1")
    head.email_digest = True
    head.save(update_fields=["email_digest"])
    for _ in range(3):
        committed(start_case)
    assert to("department_head1") == []
    assert tasks.send_daily_digests.delay().get() == 1
    [digest] = to("department_head1")
    assert "(3)" in digest.subject
    assert digest.body.count("/tasks/") == 3
    assert "У вас во входящих 3 открытые задачи." in digest.body  # department_head1 reads Russian
    assert tasks.send_daily_digests.delay().get() == 0  # nothing new since
    assert len(to("department_head1")) == 1


def test_tasks_due_within_a_day_are_announced_once(engine_test_process: ProcessDefinition, committed: Any) -> None:
    instance = committed(start_case)
    review = open_task(instance, "review")
    mail.outbox.clear()
    assert tasks.send_due_soon_notices.delay().get() == 0  # due in two working days: not yet
    with time_machine.travel(review.due_at - timedelta(hours=20)):
        assert tasks.send_due_soon_notices.delay().get() == 1
        assert tasks.send_due_soon_notices.delay().get() == 0
    [message] = to("department_head1")
    assert "24" in message.subject


def test_reminders_and_escalations_are_mailed(engine_test_process: ProcessDefinition, committed: Any) -> None:
    instance = committed(start_case)
    review = open_task(instance, "review")
    mail.outbox.clear()
    reminder = Timer.objects.get(task=review, kind=Timer.Kind.REMINDER)
    with time_machine.travel(reminder.due_at + timedelta(minutes=1)):
        committed(services.timers_fire_due)
    assert [m.subject.startswith("Qujat: Напоминание") for m in to("department_head1")] == [True]
    with time_machine.travel(review.due_at + timedelta(minutes=1)):
        committed(services.timers_fire_due)
    assert len(to("school_dean1")) == 1  # the level above now has the task
    assert len(to("department_head1")) == 2


def test_a_broken_mail_queue_does_not_undo_or_fail_an_approval(
    engine_test_process: ProcessDefinition, committed: Any, logged_in: Any
) -> None:
    review = open_task(committed(start_case), "review")
    client = logged_in("department_head1")
    with mock.patch.object(tasks.notify_task, "delay", side_effect=ConnectionError("broker down")):
        response = committed(client.post, f"/tasks/{review.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    assert HumanTask.objects.get(pk=review.pk).status == "completed"


def test_notices_about_closed_tasks_are_not_sent(engine_test_process: ProcessDefinition) -> None:
    head = user("department_head1")
    head.email_digest = True
    head.save(update_fields=["email_digest"])
    review = open_task(start_case(), "review")
    Notice.objects.create(user=head, task=review, kind=Notice.Kind.NEW)
    services.task_complete(task_id=review.pk, user=head, data={"decision": "approve"})
    assert tasks.send_daily_digests.delay().get() == 0
    assert mail.outbox == []
    assert not Notice.objects.filter(sent_at__isnull=True).exists()
    with time_machine.travel(timezone.now() + timedelta(days=100)):
        tasks.send_daily_digests.delay().get()
    assert not Notice.objects.exists()  # settled notices of closed tasks are pruned after 90 days
