"""Activation links: single use, replaced by a reminder, expiring with the period, handed back to IT."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from backend.access.models import AccessEntry, AccessRequest, ActivationToken
from backend.accounts.models import User
from backend.workflow import services as workflow
from backend.workflow.models import ProcessInstance
from tests.access.conftest import act, activate, links_to, open_specs, provisioned, teacher

pytestmark = [pytest.mark.django_db, pytest.mark.converter]

FIRST = "g.abdigaliyeva@new.kaznmu.kz"
SECOND = "yu.shcherbakov@new.kaznmu.kz"


@pytest.fixture
def fresh_engine() -> None:
    """Each step loads the case from its saved state (no instance kept in memory between steps)."""
    from backend.workflow.services import _CACHE

    _CACHE.items.clear()


def test_a_link_works_once_and_passwords_follow_the_rules(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    provisioned(django_capture_on_commit_callbacks, teacher(1))
    token = links_to(FIRST)[0]
    weak = activate(token, password="12345678", status=400)
    assert "password" in weak["fields"]
    similar = activate(token, password="g.abdigaliyeva", status=400)
    assert "password" in similar["fields"]
    assert not User.objects.get(username="g.abdigaliyeva").has_usable_password()  # nothing changed

    activate(token)
    again = activate(token, password="Another-Pass-2031", status=410)
    assert again["code"] == "link_used"
    assert activate("not-a-real-token", status=410)["code"] == "link_invalid"
    assert User.objects.get(username="g.abdigaliyeva").check_password("Kokterek-2030!")


def test_no_password_is_ever_written_to_an_email(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    provisioned(django_capture_on_commit_callbacks, teacher(1))
    message = next(m for m in mail.outbox if FIRST in m.to)
    assert "g.abdigaliyeva" in message.body
    assert "password:" not in message.body.lower().replace("set your password", "")
    token = links_to(FIRST)[0]
    stored = ActivationToken.objects.get()
    assert token not in {stored.token_hash}
    assert len(stored.token_hash) == 64


def test_a_mail_the_server_refuses_fails_neither_the_step_nor_the_other_links(
    demo: None, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.access import emails

    send_mail = emails.send_mail

    def refusing_the_first(**message: Any) -> int:
        if FIRST in message["recipient_list"]:
            raise smtplib.SMTPRecipientsRefused({FIRST: (550, b"mailbox unavailable")})
        return send_mail(**message)

    monkeypatch.setattr(emails, "send_mail", refusing_the_first)
    instance_id = provisioned(django_capture_on_commit_callbacks, teacher(1), teacher(2))
    assert links_to(FIRST) == []
    assert len(links_to(SECOND)) == 1
    access = AccessRequest.objects.get(instance_id=instance_id)
    assert access.stage == "activation"
    assert access.entries.filter(status=AccessEntry.Status.INVITED).count() == 2


def test_reminder_after_48_hours_then_expiry_hands_the_case_back_to_it(
    demo: None, django_capture_on_commit_callbacks: Any, fresh_engine: None
) -> None:
    instance_id = provisioned(django_capture_on_commit_callbacks, teacher(1), teacher(2))
    access = AccessRequest.objects.get(instance_id=instance_id)
    activate(links_to(FIRST)[0])
    first_link = links_to(SECOND)[0]
    start = timezone.now()

    with time_machine.travel(start + timedelta(hours=49), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.timers_fire_due() >= 1
        reminder = links_to(SECOND)
        assert len(reminder) == 2
        with override(User.objects.get(email=SECOND).language):  # the holder's language, whatever catalogs exist
            subject = _("Reminder: activate your Qujat account")
        assert [m.subject for m in mail.outbox if SECOND in m.to][-1] == subject
        assert activate(first_link, status=410)["code"] == "link_replaced"
        assert links_to(FIRST) == links_to(FIRST)[:1]  # who activated gets no reminder

    with time_machine.travel(start + timedelta(hours=73), tick=False):
        assert activate(reminder[1], status=410)["code"] == "link_expired"
        workflow.timers_fire_due()
        assert open_specs(instance_id) == ["expired_it"]
        access.refresh_from_db()
        assert access.stage == "expired"
        with django_capture_on_commit_callbacks(execute=True):
            act(instance_id, "it_staff1", "expired_it", decision="resend")
        fresh = links_to(SECOND)[-1]
        assert fresh not in reminder
        activate(fresh)
    assert ProcessInstance.objects.get(pk=instance_id).status == "completed"
    access.refresh_from_db()
    assert access.stage == "completed"


def test_closing_after_expiry_switches_off_the_unactivated_accounts(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    instance_id = provisioned(django_capture_on_commit_callbacks, teacher(1))
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        workflow.timers_fire_due()
        act(instance_id, "it_staff1", "expired_it", decision="close", comment="Преподаватель не вышел на работу")
    access = AccessRequest.objects.get(instance_id=instance_id)
    assert access.stage == "closed"
    entry = access.entries.get()
    assert entry.status == AccessEntry.Status.CLOSED
    assert not entry.account.is_active
    assert activate(links_to(FIRST)[0], status=410)["code"] == "link_replaced"
