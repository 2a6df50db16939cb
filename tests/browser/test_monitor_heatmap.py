"""The head of the Registrar office opens the heatmap: the transcript diagram is drawn by bpmn-js with each
user task coloured and badged, and the weekly charts are drawn — in Kazakh and in Russian."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.monitor.facts import facts_refresh
from tests.monitor.conftest import make_case, make_task

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "legend"), [("kk", "мерзім немесе дерек жоқ"), ("ru", "нет срока или данных")])
def test_the_heatmap_is_drawn_with_badges_and_colours(
    transactional_demo: None, live_server: Any, log_in: Any, console_errors: list[str], language: str, legend: str
) -> None:
    from playwright.sync_api import expect

    # Given transcripts whose review took two hours, one of them late, and one review waiting past its due time
    now = timezone.now()
    for n in range(4):
        created = now - timedelta(days=10 + n)
        case = make_case("transcript_issuance", started=created, finished=created + timedelta(hours=3))
        make_task(
            case,
            "review",
            created=created,
            completed=created + timedelta(hours=2),
            due=created + timedelta(days=3),
            role="registrar_staff",
        )
    waiting = make_case("transcript_issuance", started=now - timedelta(days=6))
    make_task(waiting, "review", created=now - timedelta(days=6), due=now - timedelta(days=2), role="registrar_staff")
    facts_refresh()

    # When registrar_head1 opens the process's heatmap
    page = log_in("registrar_head1", language=language)
    page.goto(f"{live_server.url}/monitor/")
    page.locator('.qj-monitor-card[data-process="transcript_issuance"] a').click()
    page.wait_for_url("**/monitor/transcript_issuance/**")

    # Then the diagram is drawn, the review step is coloured by its p90 and carries its badges
    expect(page.locator("#heatmap")).to_have_attribute("data-rendered", "true")
    review = page.locator('g.djs-element[data-element-id="review"]')
    expect(review).to_have_class(re.compile(r"qj-heat-(ok|warn|bad)"))
    badges = page.locator('.djs-overlays[data-container-id="review"] .qj-badge')
    expect(badges.first).to_be_visible()
    texts = badges.all_text_contents()
    assert any(t.startswith("p90 ") for t in texts), texts
    assert any(t.startswith("✓4") for t in texts), texts
    # every user task of the diagram got a heat colour
    assert page.locator("g.djs-element.djs-shape[class*='qj-heat-']").count() >= 3
    expect(page.locator("body")).to_contain_text(legend)
    # and the weekly charts are drawn by Chart.js
    assert page.evaluate("() => !!window.Chart.getChart('chart-volume') && !!window.Chart.getChart('chart-p90')")
    assert console_errors == []
