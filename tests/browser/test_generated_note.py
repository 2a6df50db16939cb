"""The real explanatory note, rendered from its .docx template and converted by LibreOffice through the
documents app, reads in the task page's viewer: Kazakh and Russian letters included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from backend.workflow.deployment import deploy_file
from tests.inbox.conftest import open_task, start_case
from tests.workflow.conftest import DIAGRAM

pytestmark = [pytest.mark.browser, pytest.mark.converter]


def test_the_generated_note_reads_in_the_viewer(transactional_demo: None, live_server: Any, log_in: Any) -> None:
    from playwright.sync_api import expect

    from backend.documents.services import document_generate_now

    deploy_file(DIAGRAM)
    instance = start_case("teacher1")
    example = settings.DOCUMENT_TEMPLATES_DIR / "examples" / "explanatory_note.ru.json"
    context = json.loads(example.read_text(encoding="utf-8"))
    document = document_generate_now(
        kind="explanatory_note", language="ru", context=context, instance=instance, key="note-1"
    )
    assert document.status == "ready"

    review = open_task(instance, "review")
    page = log_in("department_head1")
    page.goto(f"{live_server.url}/tasks/{review.pk}/")
    text_layer = page.get_by_test_id("pdf-viewer").locator(".textLayer")
    expect(text_layer.first).to_contain_text("Әбдіғалиева", timeout=30_000)
    expect(page.get_by_test_id("history")).to_contain_text("was generated")
