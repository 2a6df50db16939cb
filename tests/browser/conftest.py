"""Browser tests: real headless Chromium (Debian's, never a downloaded one) driven by Playwright's sync API
against pytest-django's live server.

Reuse from any test marked `@pytest.mark.browser` that also asks for `transactional_demo`:

    def test_something(transactional_demo, live_server, log_in):
        page = log_in("department_head1")          # a logged-in page of a fresh browser profile
        page.goto(f"{live_server.url}/inbox/")

`browser_context` is the persistent context of that fresh profile (a new one per test) and `page` its page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _browser_media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def playwright_driver() -> Iterator[Any]:
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while it is open, so it is opened per test (a
    # later test's asyncio.run() must not find it running); the test's own ORM calls are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
            # The test's ORM calls ran while Playwright's loop was up; close that connection here, where it was
            # opened, or PostgreSQL still sees a session when the test database is dropped.
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_context(playwright_driver: Any, tmp_path: Path) -> Iterator[Any]:
    """Chromium with a fresh user-data-dir, English, desktop size; closed after the test."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        locale="en-US",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Any:
    return browser_context.pages[0] if browser_context.pages else browser_context.new_page()


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """JavaScript errors of the page, for asserting that none happened."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def log_in(page: Any, live_server: Any) -> Callable[..., Any]:
    """Log in through the login page as `username` (password "demo"), in `language`; returns the page."""

    def log_in_as(username: str, *, language: str = "en") -> Any:
        page.context.clear_cookies()
        host = live_server.url.split("//", 1)[1].split(":")[0]
        page.context.add_cookies([{"name": "django_language", "value": language, "domain": host, "path": "/"}])
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "demo")
        # The page also has the language switch's buttons: submit the login form itself.
        page.press("#id_password", "Enter")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return log_in_as
