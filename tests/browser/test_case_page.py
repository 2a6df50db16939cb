"""The auditor opens a case page in Kazakh and in Russian: the diagram of the case's version is drawn by bpmn-js
with the path the case took marked, and a click on a step shows its events."""

from __future__ import annotations

from typing import Any

import pytest

from backend.workflow import services as workflow
from backend.workflow.models import HumanTask
from tests.conftest import user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "integrity"), [("kk", "Тұтастықты тексеру"), ("ru", "Проверка целостности")])
def test_an_auditor_sees_the_path_a_transcript_request_took(
    transactional_demo: None, live_server: Any, log_in: Any, console_errors: list[str], language: str, integrity: str
) -> None:
    from playwright.sync_api import expect

    # Given student1's transcript request, checked by the Registrar office, who asked a question
    instance = workflow.instance_start(
        process_key="transcript_issuance", user=user("student1"), data={"reason": "Для стипендии", "language": "kk"}
    )
    review = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
    workflow.task_complete(
        task_id=review.pk, user=user("registrar_staff1"), data={"decision": "return", "message": "Для какой стипендии?"}
    )
    instance.refresh_from_db()

    # When auditor1 opens the case from the list of cases
    page = log_in("auditor1", language=language)
    page.goto(f"{live_server.url}/cases/?number={instance.number}")
    page.locator(f'tr[data-case="{instance.number}"] a').click()
    page.wait_for_url(f"{live_server.url}/cases/{instance.number}/")

    # Then the diagram is drawn, the steps done and the flows taken are marked, the current step highlighted
    diagram = page.locator("#case-diagram")
    expect(diagram).to_have_attribute("data-rendered", "true")
    expect(page.locator('.djs-element[data-element-id="review"].qj-done')).to_have_count(1)
    assert page.locator(".djs-connection.qj-taken").count() >= 3
    expect(page.locator(".djs-element.qj-current")).not_to_have_count(0)
    expect(page.locator(".qj-badge").first).to_be_visible()
    expect(page.get_by_test_id("integrity")).to_contain_text(integrity)
    expect(page.get_by_test_id("integrity")).to_have_attribute("data-intact", "true")

    # and a click on the review lists only its events
    page.locator('.djs-element[data-element-id="review"]').click()
    expect(page.locator("#element-panel")).to_be_visible()
    visible = page.locator("#case-timeline li[data-seq]:visible")
    assert visible.count() >= 2
    for index in range(visible.count()):
        assert visible.nth(index).get_attribute("data-element") == "review"
    assert not console_errors
