"""Bulk approval in a real browser, in Kazakh and in Russian: the staff tick routine reviews, approve them, and
follow the job's page until every transcript's approval is reported."""

from __future__ import annotations

from typing import Any

import pytest

from backend.documents.models import GeneratedDocument
from backend.documents.services import document_generate
from backend.signatures.task_signing import task_sign
from backend.transcripts.models import TranscriptRequest
from backend.workflow import services
from backend.workflow.models import HumanTask
from tests.conftest import user

pytestmark = [pytest.mark.browser, pytest.mark.converter]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_staff_approve_two_transcripts_together_and_follow_the_job(
    transactional_demo: None, live_server: Any, log_in: Any, console_errors: list[str], language: str
) -> None:
    from playwright.sync_api import expect

    instances = [
        services.instance_start(
            process_key="transcript_issuance", user=user(student), data={"reason": "Стипендия", "language": "kk"}
        )
        for student in ("student1", "student1")
    ]
    reviews = [HumanTask.objects.get(instance=instance, spec_id="review", status="open") for instance in instances]
    page = log_in("registrar_staff1", language=language)
    page.goto(f"{live_server.url}/inbox/")
    for review in reviews:
        page.locator(f'input[name="task"][value="{review.pk}"]').check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2")
    # The test server runs Celery eagerly: the jobs (two approvals, each numbering its transcript and having it
    # generated) run before the redirect is answered, which on a loaded machine takes a while; a real server
    # answers at once.
    page.get_by_test_id("bulk-approve").click(timeout=240_000)
    page.wait_for_url(f"{live_server.url}/jobs/*/", timeout=240_000)
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "done")
    for review in reviews:
        row = page.locator(f'tr[data-item="{review.pk}"]')
        expect(row).to_have_attribute("data-status", "done")
        expect(row.get_by_role("link")).to_have_attribute("href", f"/tasks/{review.pk}/")
    assert page.locator("html").get_attribute("lang") == language
    for instance in instances:
        request = TranscriptRequest.objects.get(instance=instance)
        assert request.number
        assert request.issued_at is None  # numbered on approval; issued once its signer has signed it
        # The signer named by the kind signs in her own task; then the transcript is issued.
        for document in GeneratedDocument.objects.filter(instance=instance).exclude(number=""):
            document_generate(document_id=document.pk)  # a worker's job; already done when Celery ran eagerly
        signing = HumanTask.objects.get(instance=instance, status="open", spec_id="sign_registrar")
        task_sign(task_id=signing.pk, user=user("registrar_head1"), passphrase="demo", data={"confirm": True})
        request.refresh_from_db()
        assert request.issued_at is not None
    assert console_errors == []
