"""The inbox in a real browser: a head reads the teacher's note in the PDF viewer and approves; the case moves
on to the next approver's inbox. Also the phone layout and the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from backend.workflow.deployment import deploy_file
from backend.workflow.models import HumanTask
from tests.inbox.conftest import attach_document, open_task, start_case
from tests.workflow.conftest import DIAGRAM

pytestmark = pytest.mark.browser


@pytest.fixture
def note_case(transactional_demo: None) -> Any:
    """The engine's test process: teacher1's request written, the review waiting for department_head1, with the
    explanatory note generated for the case."""
    deploy_file(DIAGRAM)
    instance = start_case("teacher1")
    attach_document(instance, "Explanatory note of teacher1", "Please reopen the journal of group 101.")
    return instance


def test_a_head_reads_the_note_in_the_viewer_and_approves(
    note_case: Any, live_server: Any, log_in: Any, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    review = open_task(note_case, "review")
    page = log_in("department_head1")
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    page.get_by_role("link", name="Inbox", exact=True).click()
    row = page.locator(f'tr[data-task-id="{review.pk}"]')
    expect(row).to_contain_text("Engine test")
    row.get_by_role("link", name="Head's review").click()

    viewer = page.get_by_test_id("pdf-viewer")
    text_layer = viewer.locator(".textLayer")
    expect(text_layer).to_contain_text("Explanatory note of teacher1")
    expect(text_layer).to_contain_text("Please reopen the journal of group 101.")
    expect(viewer.locator("canvas")).to_have_count(1)
    expect(viewer).to_have_attribute("data-rendered", "true")
    # The words are real text: selectable and readable, not only pixels.
    selected = page.evaluate(
        """() => { const layer = document.querySelector('.textLayer'); const range = document.createRange();
                   range.selectNodeContents(layer); const s = window.getSelection(); s.removeAllRanges();
                   s.addRange(range); return s.toString(); }"""
    )
    assert "Explanatory note of teacher1" in selected
    expect(page.get_by_test_id("unread-count")).to_have_text("0")

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    expect(page.get_by_role("status").first).to_contain_text("is completed")
    expect(page.locator(f'tr[data-task-id="{review.pk}"]')).to_have_count(0)
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    assert HumanTask.objects.get(pk=review.pk).status == "completed"

    page = log_in("school_dean1")
    page.goto(f"{live_server.url}/inbox/")
    dean_check = open_task(note_case, "dean_check")
    expect(page.locator(f'tr[data-task-id="{dean_check.pk}"]')).to_contain_text("Dean's check")
    page.get_by_role("link", name="Dean's check").click()
    expect(page.get_by_test_id("history")).to_contain_text("completed the task “Head's review”")
    expect(page.get_by_test_id("pdf-viewer").locator(".textLayer")).to_contain_text("Explanatory note of teacher1")
    assert console_errors == []


def test_a_returned_note_needs_a_reason_and_keeps_what_was_typed(note_case: Any, live_server: Any, log_in: Any) -> None:
    from playwright.sync_api import expect

    review = open_task(note_case, "review")
    page = log_in("department_head1")
    page.goto(f"{live_server.url}/tasks/{review.pk}/")
    page.get_by_role("button", name="Return").click()
    expect(page.get_by_test_id("errors-comment")).to_have_text("This field is required.")
    page.get_by_label("Comment", exact=True).fill("Add the date of the lesson")
    page.get_by_role("button", name="Return").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    assert open_task(note_case, "write").assignee.username == "teacher1"


def test_on_a_phone_the_list_becomes_cards_and_the_keyboard_reaches_everything(
    note_case: Any, live_server: Any, log_in: Any
) -> None:
    from playwright.sync_api import expect

    page = log_in("department_head1")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/inbox/")
    row = page.locator("tr[data-task-id]").first
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert page.locator(".task-table thead").evaluate("el => el.getBoundingClientRect().height") <= 1
    box = row.bounding_box()
    assert box is not None
    assert box["width"] <= 375

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Head's review")
    for _ in range(40):
        if link.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(link).to_be_focused()
    assert link.evaluate("el => getComputedStyle(el).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("task-title")).to_have_text("Head's review")
