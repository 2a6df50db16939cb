"""The activation page and its e-mails read in Kazakh, Russian or English (the holder's language by default)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from backend.access.models import AccessRequest
from backend.accounts.models import OrgUnit, User
from tests.access.conftest import links_to, start
from tests.factories import SpecialtyFactory, StudentFactory, StudyGroupFactory

pytestmark = pytest.mark.django_db

CATALOGS = Path(__file__).resolve().parents[2] / "backend" / "locale"


@pytest.fixture(autouse=True)
def _catalogs_compiled() -> Iterator[None]:
    """What `make messages` does for the catalogs; Django then reads them afresh."""
    from django.utils.translation import trans_real

    for po in CATALOGS.glob("*/LC_MESSAGES/django.po"):
        subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    trans_real._translations.clear()
    trans_real._default = None
    yield
    trans_real._translations.clear()
    trans_real._default = None


def test_the_page_and_the_email_speak_the_holders_language(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    group = StudyGroupFactory(
        specialty=SpecialtyFactory(school=OrgUnit.objects.get(code="school-medicine")), language="kk"
    )
    StudentFactory(group=group, last_name="Тұрсынова", first_name="Аружан", email="a.t@student.kaznmu.kz")
    with django_capture_on_commit_callbacks(execute=True):
        start("dean_office1", {"kind": "students", "group": group.pk})
    message = mail.outbox[-1]
    assert message.subject == "Qujat тіркелгіңіз: құпиясөзіңізді орнатыңыз"
    assert "Логиніңіз: a.tursynova" in message.body

    token = links_to("a.t@student.kaznmu.kz")[0]
    browser = Client()
    kazakh = browser.get(f"/access/activate/{token}/").content.decode()
    assert '<html lang="kk">' in kazakh
    assert "Құпиясөзді орнату" in kazakh
    assert "Құпиясөзді сақтау" in kazakh
    russian = browser.get(f"/access/activate/{token}/?lang=ru").content.decode()
    assert "Задайте пароль" in russian
    assert "Сохранить пароль" in russian
    assert "Set your password" in browser.get(f"/access/activate/{token}/?lang=en").content.decode()
    weak = browser.post(f"/access/activate/{token}/", {"password": "1234567890", "password_again": "1234567890"})
    assert "Бұл құпиясөз тек сандардан тұрады." in weak.content.decode()
    assert User.objects.get(username="a.tursynova").language == "kk"
    assert AccessRequest.objects.get().stage == "activation"
