"""A case's stage as people read it, in Russian and in Kazakh: the Registrar office asks a question from the
inbox, the student sees that the case waits for their answer, answers from their own inbox, and the case is
back with the Registrar office."""

from __future__ import annotations

from typing import Any

import pytest

from backend.transcripts.models import TranscriptRequest
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask
from tests.conftest import user

pytestmark = pytest.mark.browser


def test_a_question_and_its_answer_move_the_stage_in_russian_and_kazakh(
    transactional_demo: None, live_server: Any, log_in: Any, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # Given student1's transcript request, waiting for the Registrar office's check
    instance = workflow.instance_start(
        process_key="transcript_issuance", user=user("student1"), data={"reason": "Для стипендии", "language": "kk"}
    )
    request = TranscriptRequest.objects.get(instance=instance)
    review = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
    detail = f"{live_server.url}/transcripts/{request.pk}/"

    # When a staff member working in Russian opens it from the inbox and asks a question
    page = log_in("registrar_staff1", language="ru")
    page.goto(f"{live_server.url}/inbox/")
    row = page.locator(f'tr[data-task-id="{review.pk}"]')
    expect(row).to_contain_text("Проверить и одобрить заявку")
    row.locator("a.task-link").click()
    page.locator('[name="message"]').fill("Для какой стипендии?")
    page.locator('button[data-decision="return"]').click()
    page.wait_for_url(f"{live_server.url}/inbox/")

    # Then the request waits for the student's answer, in Russian for the staff
    page.goto(detail)
    expect(page.get_by_test_id("stage")).to_have_text("ожидает вашего ответа")

    # and in Kazakh for the student, who answers from their inbox
    page = log_in("student1", language="kk")
    page.goto(detail)
    expect(page.get_by_test_id("stage")).to_have_text("сіздің жауабыңыз күтілуде")
    answer = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
    page.goto(f"{live_server.url}/inbox/")
    page.locator(f'tr[data-task-id="{answer.pk}"] a.task-link').click()
    page.locator('[name="answer"]').fill("Президенттік стипендия үшін")
    page.get_by_role("button", name="Тапсырманы орындау").click()
    page.wait_for_url(f"{live_server.url}/inbox/")

    # Then the request is being checked by the Registrar office again
    page.goto(detail)
    expect(page.get_by_test_id("stage")).to_have_text("Тіркеуші офисте тексерілуде")
    assert console_errors == []
