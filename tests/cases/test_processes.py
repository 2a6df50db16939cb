"""Cases of the three real processes, driven through the engine as their users drive them, as an auditor reads them:
the path on the diagram, how many times each step ran, and the events, on the page and in the API."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from backend.signatures.models import SignerCertificate
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask, ProcessInstance
from tests.conftest import user

from .test_case_page import marks_of

pytestmark = pytest.mark.django_db


def read_as_auditor(instance_id: int) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The case page's diagram marks, the API's view of the case, and the page's HTML."""
    number = ProcessInstance.objects.get(pk=instance_id).number
    client = Client()
    client.force_login(user("auditor1"))
    page = client.get(f"/cases/{number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    api = client.get(f"/api/cases/{number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 200
    html = page.content.decode()
    return marks_of(html), api.json(), html


def timeline_text(html: str) -> str:
    """What the reader sees of the timeline (the markup's data attributes for the diagram left out)."""
    return re.sub(r"<[^>]+>", " ", html.split('id="case-timeline"')[1].split("</ol>")[0])


def runs(marks: dict[str, Any], element: str) -> str:
    return marks["badges"][element][0]["text"]


def kinds(api: dict[str, Any]) -> Counter[str]:
    return Counter(line["kind"] for line in api["timeline"])


def test_a_transcript_returned_escalated_failed_retried_and_issued(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.transcripts.test_issuance import act, request_transcript, sign

    instance_id = request_transcript()["id"]
    # A timer: nobody checks the request within three working days, and it is escalated.
    review = HumanTask.objects.get(instance_id=instance_id, spec_id="review", status="open")
    with time_machine.travel(review.due_at + timedelta(minutes=1)):
        workflow.timers_fire_due()
    # A loop back: the Registrar office asks the student a question, the student answers.
    act(instance_id, "registrar_staff1", "review", decision="return", message="Для какой стипендии?")
    act(instance_id, "student1", "answer", answer="Для президентской стипендии")
    # An incident: nobody can sign (the signer's certificate is revoked) when the transcript is approved ...
    SignerCertificate.objects.filter(user__username="registrar_head1").update(revoked_at=timezone.now())
    act(instance_id, "registrar_staff2", "review", decision="approve")
    assert ProcessInstance.objects.get(pk=instance_id).status == "error"
    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "error"
    # The step that failed is marked on the diagram (the engine's state went back to before it) and named.
    failed = [spec for spec, ms in marks["markers"].items() if "qj-failed" in ms]
    assert len(failed) == 1
    assert api["now_at"]
    assert failed[0] not in api["now_at"]  # named by its title, not its id
    assert kinds(api)["error"] == 1
    assert api["timeline"][-1]["kind"] == "error"
    # ... and a retry once the certificate is valid again; the transcript is signed and issued.
    SignerCertificate.objects.filter(user__username="registrar_head1").update(revoked_at=None)
    with django_capture_on_commit_callbacks(execute=True):  # the transcript is generated, as a worker would
        workflow.instance_retry(instance_id=instance_id, user=user("registrar_head1"))
    sign(instance_id)

    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "completed"
    assert runs(marks, "review") == "×2"
    assert runs(marks, "answer") == "×1"
    assert runs(marks, "sign_registrar") == "×1"
    markers = marks["markers"]
    assert "qj-done" in markers["done"]
    assert "refused_end" not in markers
    assert not [spec for spec, ms in markers.items() if "qj-current" in ms or "qj-failed" in ms]
    seen = kinds(api)
    assert seen["escalated"] == 1
    assert (seen["error"], seen["retried"]) == (1, 1)
    assert seen["finished"] == 1
    assert api["integrity"]["intact"]
    # The preview the staff saw is not signed; the issued transcript, with its number, is valid.
    assert [d["status"] for d in api["documents"] if d["number"]] == ["valid"]
    assert [d["status"] for d in api["documents"] if not d["number"]] == ["unsigned"]
    # The decisions at the review's gateway, in order: the question, then the approval.
    branches = [c["branch"] for c in api["decisions"] if c["gateway"] == "Decision?"]
    assert len(branches) == 2
    assert branches[0] != branches[1]
    # Each of these is told on the page too, without step ids.
    for text in ("Для какой стипендии?", "ran the failed step again", "was overdue and went to"):
        assert text in html, text
    assert "sign_registrar" not in timeline_text(html)


def test_a_refused_transcript_ends_at_the_refusal(demo: None) -> None:
    from tests.transcripts.test_issuance import act, request_transcript

    instance_id = request_transcript()["id"]
    act(instance_id, "registrar_staff1", "review", decision="refuse", message="Задолженность по оплате")

    marks, api, html = read_as_auditor(instance_id)
    assert (api["status"], api["stage"]) == ("completed", "refused")
    assert "qj-done" in marks["markers"]["refused_end"]
    assert "done" not in marks["markers"]
    assert runs(marks, "review") == "×1"
    assert "Задолженность по оплате" in html
    # Only the preview the staff saw before deciding: nothing signed, no number.
    assert all(d["status"] == "unsigned" and not d["number"] for d in api["documents"])


def test_a_journal_reopen_returned_refused_and_closed_by_its_timer(demo: None) -> None:
    from tests.reopen.test_procedure import act, approve_visas, own_closed_journal, request_of, start

    # A loop back: the curation dean returns the note, the teacher revises it, the visas start again.
    instance_id = start(own_closed_journal())["id"]
    act(instance_id, "department_head1", "head_visa", decision="approve")
    act(instance_id, "dean_curation1", "curation_visa", decision="return", comment="Укажите дату точнее")
    act(
        instance_id,
        "teacher1",
        "revise",
        wrong_entry_date="2026-09-10",
        reason_category="technical_error",
        reason="Оценки введены в соседнюю колонку из-за сбоя",
    )
    approve_visas(instance_id)
    # A timer: the two days of the window run out and the journal is closed by itself.
    with time_machine.travel(request_of(instance_id).window_closes_at + timedelta(minutes=1)):
        workflow.timers_fire_due()

    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "running"
    assert runs(marks, "head_visa") == "×2"
    assert runs(marks, "curation_visa") == "×2"
    assert runs(marks, "revise") == "×1"
    assert "qj-done" in marks["markers"]["expired"]
    assert "qj-current" in marks["markers"]["dean_discipline"]
    assert kinds(api)["timer_fired"] >= 1
    assert "Укажите дату точнее" in html
    assert api["integrity"]["intact"]

    # A refusal: another request is refused at the first visa and ends there.
    refused_id = start(own_closed_journal("teacher2"), "teacher2")["id"]
    act(refused_id, "department_head1", "head_visa", decision="refuse", comment="Оснований нет")
    marks, api, html = read_as_auditor(refused_id)
    assert (api["status"], api["stage"]) == ("completed", "refused")
    assert "qj-done" in marks["markers"]["head_end"]
    assert "curation_visa" not in marks["markers"]
    assert "Оснований нет" in html


def test_a_login_request_reminded_expired_resent_and_done(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    from tests.access.conftest import act, activate, links_to, provisioned, teacher

    instance_id = provisioned(django_capture_on_commit_callbacks, teacher(1))
    began = timezone.now()
    # Timers: a reminder after 48 hours, the links run out after 72 and the case goes back to IT.
    with time_machine.travel(began + timedelta(hours=49), tick=False), django_capture_on_commit_callbacks(execute=True):
        workflow.timers_fire_due()
    with time_machine.travel(began + timedelta(hours=73), tick=False):
        workflow.timers_fire_due()
        # A loop back: IT resends the link, the teacher activates the account.
        with django_capture_on_commit_callbacks(execute=True):
            act(instance_id, "it_staff1", "expired_it", decision="resend")
        activate(links_to("g.abdigaliyeva@new.kaznmu.kz")[-1])

    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "completed"
    assert runs(marks, "expired_it") == "×1"
    assert runs(marks, "approve") == "×1"
    assert "qj-done" in marks["markers"]["done"]
    assert "qj-done" in marks["markers"]["reminded"]
    assert "refused" not in marks["markers"]
    seen = kinds(api)
    assert seen["reminder"] + seen["timer_fired"] >= 2
    assert api["integrity"]["intact"]
    assert "expired_it" not in timeline_text(html)  # steps are named by their titles


def test_a_refused_login_request_ends_at_the_refusal(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    from tests.access.conftest import act, file_and_sign, teacher

    instance_id = file_and_sign(django_capture_on_commit_callbacks, teacher(1))
    act(instance_id, "it_head1", "approve", decision="refuse", reason="Штатное расписание не утверждено")

    marks, api, html = read_as_auditor(instance_id)
    assert (api["status"], api["stage"]) == ("completed", "refused")
    assert "qj-done" in marks["markers"]["refused"]
    assert "provision_task" not in marks["markers"]
    assert "Штатное расписание не утверждено" in html
