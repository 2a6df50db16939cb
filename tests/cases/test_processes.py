"""Cases of the three real processes, driven through the engine as their users drive them, as an auditor reads them:
the path on the diagram, how many times each step ran, and the events, on the page and in the API."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import time_machine
from django.db import connection
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


@contextmanager
def held_by_another_session(*statements: tuple[str, list[Any]]) -> Iterator[None]:
    """Another database session runs `statements` and holds their row locks, uncommitted, until the block ends
    (then rolls back), as a long import would; meanwhile this session gives up on a lock after a moment instead
    of waiting, so an automatic step that needs one of those rows fails: a real incident, not a mocked one."""
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    try:
        other.execute("SET lock_timeout = '10s'")  # a mistake in the test fails instead of waiting forever
        for sql, params in statements:
            other.execute(sql, params)  # type: ignore[arg-type] - the statements are this module's constants
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        other.rollback()
        other.close()


def incident_at(instance_id: int, element: str) -> None:
    """The case waits in error at `element`: marked failed on the diagram, told on the page and in the API."""
    instance = ProcessInstance.objects.get(pk=instance_id)
    assert (instance.status, instance.incident.split(":")[0]) == ("error", element)
    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "error"
    assert [spec for spec, ms in marks["markers"].items() if "qj-failed" in ms] == [element]
    assert api["now_at"]
    assert element not in api["now_at"]  # named by its title, not its id
    assert kinds(api)["error"] == 1
    assert api["timeline"][-1]["kind"] == "error"
    assert api["integrity"]["intact"]
    assert f'data-kind="error" data-element="{element}"' in html
    assert "An automatic step failed" in timeline_text(html)


def retried_once(api: dict[str, Any], html: str, element: str) -> None:
    """One incident and one retry by the head of the Registrar office, in that order, and nothing failed since."""
    seen = kinds(api)
    assert (seen["error"], seen["retried"]) == (1, 1)
    error, retried = (next(e for e in api["timeline"] if e["kind"] == kind) for kind in ("error", "retried"))
    assert error["seq"] < retried["seq"]
    assert retried["actor"] == user("registrar_head1").full_name
    assert f'data-kind="error" data-element="{element}"' in html
    assert "ran the failed step again" in timeline_text(html)
    assert api["integrity"]["intact"]


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


@pytest.mark.postgres
def test_a_journal_reopen_returned_failed_retried_refused_and_closed_by_its_timer(demo: None) -> None:
    from tests.reopen.test_procedure import APPROVERS, act, approve_visas, own_closed_journal, request_of, start

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
    approve_visas(instance_id, until="inspector_review")
    # An incident: while another session (an import, say) holds the journal's row, the head of the Registrar
    # office approves and the journal cannot be reopened ...
    journals = list(request_of(instance_id).journals.values_list("pk", flat=True))
    assert journals
    held = ("UPDATE academics_journal SET updated_at = updated_at WHERE id = ANY(%s)", [journals])
    with held_by_another_session(held):
        act(instance_id, APPROVERS["head_or_review"], "head_or_review", decision="approve")
    incident_at(instance_id, "open_journal")
    assert request_of(instance_id).journals.filter(status="reopened").count() == 0
    # ... and the head of the Registrar office runs the step again once the row is free: the journal opens.
    workflow.instance_retry(instance_id=instance_id, user=user("registrar_head1"))
    assert request_of(instance_id).journals.filter(status="reopened").count() == len(journals)
    # A timer: the two days of the window run out and the journal is closed by itself.
    with time_machine.travel(request_of(instance_id).window_closes_at + timedelta(minutes=1)):
        workflow.timers_fire_due()

    marks, api, html = read_as_auditor(instance_id)
    assert api["status"] == "running"
    assert runs(marks, "head_visa") == "×2"
    assert runs(marks, "curation_visa") == "×2"
    assert runs(marks, "revise") == "×1"
    assert runs(marks, "head_or_review") == "×1"
    assert runs(marks, "open_journal") == "×1"  # the failed run left nothing behind
    assert "qj-done" in marks["markers"]["expired"]
    assert "qj-current" in marks["markers"]["dean_discipline"]
    assert not [spec for spec, ms in marks["markers"].items() if "qj-failed" in ms]
    assert kinds(api)["timer_fired"] >= 1
    retried_once(api, html, "open_journal")
    assert "Укажите дату точнее" in html

    # A refusal: another request is refused at the first visa and ends there.
    refused_id = start(own_closed_journal("teacher2"), "teacher2")["id"]
    act(refused_id, "department_head1", "head_visa", decision="refuse", comment="Оснований нет")
    marks, api, html = read_as_auditor(refused_id)
    assert (api["status"], api["stage"]) == ("completed", "refused")
    assert "qj-done" in marks["markers"]["head_end"]
    assert "curation_visa" not in marks["markers"]
    assert "Оснований нет" in html


@pytest.mark.postgres
def test_a_login_request_failed_retried_reminded_expired_resent_and_done(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.access.conftest import act, activate, approved, links_to, teacher

    newcomer = teacher(1)
    instance_id = approved(django_capture_on_commit_callbacks, newcomer)
    # An incident: another session is creating an account with the teacher's e-mail (uncommitted) when IT
    # creates the accounts, so the new account cannot be written ...
    pending = [
        ("CREATE TEMPORARY TABLE pending AS SELECT * FROM accounts_user WHERE username = %s", ["teacher2"]),
        (
            "UPDATE pending SET id = nextval(pg_get_serial_sequence('accounts_user', 'id')), "
            "username = 'import.pending', email = %s, iin = NULL",
            [newcomer["email"]],
        ),
        ("INSERT INTO accounts_user SELECT * FROM pending", []),
    ]
    with held_by_another_session(*pending), django_capture_on_commit_callbacks(execute=True):
        act(instance_id, "it_staff1", "provision_task", done=True)
    incident_at(instance_id, "provision")
    assert links_to(newcomer["email"]) == []
    # ... and once that session has given up, the head of the Registrar office runs the step again.
    with django_capture_on_commit_callbacks(execute=True):
        workflow.instance_retry(instance_id=instance_id, user=user("registrar_head1"))
    assert len(links_to(newcomer["email"])) == 1
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
    assert runs(marks, "provision") == "×1"
    assert "qj-done" in marks["markers"]["done"]
    assert "qj-done" in marks["markers"]["reminded"]
    assert "refused" not in marks["markers"]
    assert not [spec for spec, ms in marks["markers"].items() if "qj-failed" in ms]
    seen = kinds(api)
    assert seen["reminder"] + seen["timer_fired"] >= 2
    retried_once(api, html, "provision")
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
