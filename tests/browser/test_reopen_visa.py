"""The journal reopen procedure in a real browser: the head of department opens the reopen task in the inbox,
reads the teacher's explanatory note (made by LibreOffice) in the viewer and approves; the dean in charge of
curation now has the task and the head no longer does."""

from __future__ import annotations

from typing import Any

import pytest

from backend.academics.models import Journal
from backend.documents.models import GeneratedDocument
from backend.workflow.models import HumanTask
from tests.conftest import api_as

pytestmark = [pytest.mark.browser, pytest.mark.converter]


def test_a_head_reads_the_note_and_gives_the_visa(transactional_demo: None, live_server: Any, log_in: Any) -> None:
    from playwright.sync_api import expect

    journal = Journal.objects.filter(
        teacher__username="teacher1", status="closed", period__academic_year="2026-2027", lesson_type="practical"
    ).first()
    # The teacher files the note through the API; its transaction commits, so the note is generated then.
    started = api_as("teacher1").post(
        "/api/processes/journal_reopen/start/",
        {
            "journal": journal.pk,
            "wrong_entry_date": "2026-09-09",
            "reason_category": "wrong_grade",
            "reason": "Баллы двух студентов перепутаны местами",
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    instance_id = started.json()["id"]
    note = GeneratedDocument.objects.get(instance_id=instance_id, kind="explanatory_note")
    assert note.status == "ready", note.error
    visa = HumanTask.objects.get(instance_id=instance_id, spec_id="head_visa", status="open")

    page = log_in("department_head1")
    page.get_by_role("link", name="Inbox", exact=True).click()
    row = page.locator(f'tr[data-task-id="{visa.pk}"]')
    expect(row).to_contain_text("Reopen:")
    expect(row).to_contain_text(journal.group.name)
    row.get_by_role("link", name="Head of department's visa").click()

    text_layer = page.get_by_test_id("pdf-viewer").locator(".textLayer")
    expect(text_layer.first).to_contain_text("Түсініктеме", timeout=30_000)  # teacher1 writes in Kazakh
    expect(text_layer.first).to_contain_text("перепутаны местами")
    expect(text_layer.first).to_contain_text(journal.group.name)

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    expect(page.locator(f'tr[data-task-id="{visa.pk}"]')).to_have_count(0)

    curation = HumanTask.objects.get(instance_id=instance_id, spec_id="curation_visa", status="open")
    page = log_in("dean_curation1")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator(f'tr[data-task-id="{curation.pk}"]')).to_contain_text("Curation dean's visa")
    page = log_in("department_head1")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator(f'tr[data-task-id="{curation.pk}"]')).to_have_count(0)
