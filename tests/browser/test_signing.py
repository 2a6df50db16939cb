"""The signer signs in the browser, in Kazakh and in Russian: the task page shows the transcript and asks for the
passphrase; a wrong one is refused on the page, the right one signs and the case goes on."""

from __future__ import annotations

from typing import Any

import pytest

from backend.transcripts.models import TranscriptRequest
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask
from tests.conftest import user

pytestmark = [pytest.mark.browser, pytest.mark.converter]


def _waiting_for_signature() -> HumanTask:
    instance = workflow.instance_start(
        process_key="transcript_issuance", user=user("student1"), data={"reason": "Для стипендии", "language": "kk"}
    )
    review = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
    workflow.task_complete(task_id=review.pk, user=user("registrar_staff1"), data={"decision": "approve"})
    return HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN, spec_id="sign_registrar")


@pytest.mark.parametrize(
    ("language", "wrong", "button", "done"),
    [
        ("kk", "Құпия фраза қате", "Қол қою", "орындалды"),
        ("ru", "Неверная парольная фраза", "Подписать", "выполнена"),
    ],
)
def test_the_head_signs_the_transcript_with_her_passphrase(
    transactional_demo: None,
    live_server: Any,
    log_in: Any,
    console_errors: list[str],
    language: str,
    wrong: str,
    button: str,
    done: str,
) -> None:
    from playwright.sync_api import expect

    task = _waiting_for_signature()
    page = log_in("registrar_head1", language=language)
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    expect(page.get_by_test_id("pdf-viewer")).to_have_attribute("data-rendered", "true", timeout=30000)
    page.locator('[name="confirm"]').check()
    page.locator("#signing-passphrase").fill("not mine")
    page.get_by_test_id("sign-button").click()
    expect(page.get_by_test_id("errors-passphrase")).to_contain_text(wrong)
    page.locator('[name="confirm"]').check()
    page.locator("#signing-passphrase").fill("demo")
    expect(page.get_by_test_id("sign-button")).to_have_text(button)
    page.get_by_test_id("sign-button").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    expect(page.locator(".alert-success")).to_contain_text(done)
    request = TranscriptRequest.objects.get(instance=task.instance)
    assert request.issued_at is not None
    assert console_errors == []
