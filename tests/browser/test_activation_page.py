"""The activation page in Chromium: a new teacher sets a password (the CSRF check passes with the page's
referrer policy) and logs in with it, in Kazakh and in Russian."""

from __future__ import annotations

from typing import Any

import pytest

from backend.accounts.models import User
from tests.access.conftest import links_to, provisioned, teacher

pytestmark = [pytest.mark.browser, pytest.mark.converter]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_new_teacher_sets_a_password_in_chromium_and_logs_in(
    transactional_demo: None,
    live_server: Any,
    page: Any,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    from playwright.sync_api import expect

    # Given a provisioned login request whose activation link went out by e-mail
    provisioned(django_capture_on_commit_callbacks, teacher(1, language=language))
    token = links_to("g.abdigaliyeva@new.kaznmu.kz")[-1]

    # When the teacher opens the link and sets a password
    page.goto(f"{live_server.url}/access/activate/{token}/?lang={language}")
    page.fill("input[name=password]", "Kokterek-2030!")
    page.fill("input[name=password_again]", "Kokterek-2030!")
    page.click("form button[type=submit]")

    # Then the browser's post passed the CSRF check and the account works
    expect(page.locator("body")).not_to_contain_text("CSRF")
    assert User.objects.get(username="g.abdigaliyeva").check_password("Kokterek-2030!")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "g.abdigaliyeva")
    page.fill("input[name=password]", "Kokterek-2030!")
    page.click("form button[type=submit]")
    expect(page).not_to_have_url(f"{live_server.url}/login/")
