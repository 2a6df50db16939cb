"""The operator's acts on the incidents page and the daily alert e-mail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from backend.monitor.facts import facts_refresh
from backend.monitor.models import ProcessTarget, StepThreshold
from backend.monitor.services import alerts_send
from backend.workflow import services
from backend.workflow.models import HistoryEvent, ProcessInstance
from tests.conftest import user

from .conftest import make_case, make_task

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


def page_as(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


@pytest.fixture
def running_case(engine_test_process: object) -> ProcessInstance:
    return services.instance_start(process_key="qujat_engine_test", user=user("teacher1"), data=START)


def test_suspend_resume_and_cancel_from_the_page(running_case: ProcessInstance) -> None:
    head = page_as("registrar_head1")
    response = head.post("/monitor/cases/suspend/", {"number": running_case.number, "reason": "waiting for a paper"})
    assert response.status_code == 302
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.SUSPENDED
    page = head.get("/monitor/incidents/")
    assert f'data-instance="{running_case.pk}"'.encode() in page.content
    assert b"waiting for a paper" in page.content

    assert head.post(f"/monitor/cases/{running_case.pk}/resume/").status_code == 302
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.RUNNING

    refused = head.post(f"/monitor/cases/{running_case.pk}/cancel/", {"reason": "  "})
    assert refused.status_code == 400
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.RUNNING
    assert head.post(f"/monitor/cases/{running_case.pk}/cancel/", {"reason": "duplicate request"}).status_code == 302
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.CANCELLED
    kinds = list(
        HistoryEvent.objects.filter(instance=running_case, kind__in=["suspended", "resumed", "cancelled"])
        .order_by("seq")
        .values_list("kind", "actor__username")
    )
    assert kinds == [("suspended", "registrar_head1"), ("resumed", "registrar_head1"), ("cancelled", "registrar_head1")]


def test_retry_checks_its_data_and_the_state(running_case: ProcessInstance) -> None:
    head = page_as("registrar_head1")
    bad = head.post(f"/monitor/cases/{running_case.pk}/retry/", {"process_data": "[1, 2"})
    assert bad.status_code == 400
    # Not in error: refused with a message, nothing changes.
    response = head.post(f"/monitor/cases/{running_case.pk}/retry/", {"process_data": ""}, follow=True)
    assert response.status_code == 200
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.RUNNING


def test_an_unknown_case_number_is_a_field_error(demo: None) -> None:
    assert page_as("registrar_head1").post("/monitor/cases/suspend/", {"number": "XX-1"}).status_code == 400


@pytest.mark.parametrize("username", ["school_dean1", "auditor1", "registrar_staff1", "vice_rector1"])
def test_only_the_registrar_head_operates(running_case: ProcessInstance, username: str) -> None:
    response = page_as(username).post(f"/monitor/cases/{running_case.pk}/suspend/", {"reason": "x"})
    assert response.status_code == 403
    running_case.refresh_from_db()
    assert running_case.status == ProcessInstance.Status.RUNNING


def test_daily_alert_in_the_heads_language(demo: None) -> None:
    now = timezone.now()
    case = make_case(started=now - timedelta(days=5))
    for late in (False, True, True):
        created = now - timedelta(days=3)
        make_task(
            case,
            "head_visa",
            created=created,
            completed=created + timedelta(hours=30 if late else 1),
            due=created + timedelta(hours=24),
        )
    StepThreshold.objects.create(process_key="journal_reopen", spec_id="head_visa", min_on_time_share=Decimal("0.9"))
    StepThreshold.objects.create(process_key="journal_reopen", spec_id="school_visa", min_on_time_share=Decimal("0.9"))
    ProcessTarget.objects.create(process_key="transcript_issuance", days=3, working_days=False)
    soon = make_case("transcript_issuance", started=now - timedelta(days=3) + timedelta(hours=2))
    make_case("transcript_issuance", started=now - timedelta(hours=1))  # days to go: no alert
    facts_refresh()
    head = user("registrar_head1")
    head.language = "kk"
    head.save(update_fields=["language"])

    assert alerts_send(now=now) == 1
    [message] = mail.outbox
    assert message.to == [head.email]
    assert message.subject.startswith("Процестер мониторы")  # in Kazakh, the head's language
    assert "Соңғы 30 күнде" in message.body
    assert "33 %" in message.body  # one of three on time, threshold 90 %
    assert "school_visa" not in message.body  # no data: no alert
    assert (soon.number or str(soon.pk)) in message.body
    assert message.body.count("TR-") <= 1 or soon.number is None


def test_no_news_no_mail(demo: None) -> None:
    facts_refresh()
    assert alerts_send() == 0
    assert mail.outbox == []
