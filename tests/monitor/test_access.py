"""Who sees what in the monitor: role × unit, pages and API alike; exports; bad input; the reminder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backend.monitor.facts import facts_refresh
from backend.workflow.models import HistoryEvent
from tests.conftest import api_as, user

from .conftest import at, make_case, make_task, sketched

pytestmark = pytest.mark.django_db
PERIOD = {"from": "2026-02-01", "to": "2026-02-28"}


def page_as(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


@pytest.fixture
def two_schools(demo: None) -> dict[str, int]:
    """A transcript finished in anatomy (school of medicine) and one in chemistry (school of pharmacy)."""
    anatomy = make_case("transcript_issuance", started=at("2026-02-09"), finished=at("2026-02-10"))
    chemistry = make_case(
        "transcript_issuance", started=at("2026-02-09"), finished=at("2026-02-13"), department="dept-chemistry"
    )
    now = timezone.now()
    late = make_task(chemistry, "review", created=now - timedelta(days=5), due=now - timedelta(days=1))
    facts_refresh()
    return {"anatomy": anatomy.pk, "chemistry": chemistry.pk, "late_task": late.pk}


def transcripts_card(username: str, **params: str) -> dict:
    response = api_as(username).get("/api/monitor/processes/", {**PERIOD, **params})
    assert response.status_code == 200, response.json()
    return next(c for c in response.json() if c["key"] == "transcript_issuance")


@pytest.mark.parametrize("username", ["registrar_head1", "registrar_staff1", "vice_rector1", "auditor1"])
def test_the_registrar_office_the_vice_rector_and_auditors_see_the_university(
    two_schools: dict[str, int], username: str
) -> None:
    assert transcripts_card(username)["finished"] == 2


@pytest.mark.parametrize(
    ("username", "finished", "p50"),
    [("school_dean1", 1, 1.0), ("school_dean2", 1, 4.0), ("department_head1", 1, 1.0), ("department_head3", 1, 4.0)],
)
def test_deans_see_their_school_and_heads_their_department(
    two_schools: dict[str, int], username: str, finished: int, p50: float
) -> None:
    card = transcripts_card(username)
    assert card["finished"] == finished
    assert card["p50_days"] == sketched(p50)


def test_a_dean_cannot_ask_for_another_school(two_schools: dict[str, int]) -> None:
    from backend.accounts.models import OrgUnit

    chemistry = OrgUnit.objects.get(code="dept-chemistry").pk
    assert api_as("school_dean1").get("/api/monitor/processes/", {"unit": chemistry}).status_code == 403
    assert page_as("school_dean1").get("/monitor/", {"unit": chemistry}).status_code == 403
    # The registrar may narrow down to it.
    assert transcripts_card("registrar_head1", unit=str(chemistry))["finished"] == 1


@pytest.mark.parametrize("username", ["teacher1", "student1", "it_staff1", "dean_office1"])
def test_others_are_refused(demo: None, username: str) -> None:
    assert api_as(username).get("/api/monitor/processes/").status_code == 403
    for url in ["/monitor/", "/monitor/journal_reopen/", "/monitor/overdue/", "/monitor/incidents/"]:
        assert page_as(username).get(url).status_code == 403


def test_bad_filters_are_400_with_field_messages(demo: None) -> None:
    response = api_as("registrar_head1").get("/api/monitor/processes/", {"from": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "fields"}
    assert "from" in response.json()["fields"]
    assert api_as("registrar_head1").get("/api/monitor/processes/", {"mode": "x"}).status_code == 400
    assert api_as("registrar_head1").get("/api/monitor/processes/", {"unit": "99999"}).status_code == 400
    assert page_as("registrar_head1").get("/monitor/", {"to": "2026-13-01"}).status_code == 400
    assert api_as("registrar_head1").get("/api/monitor/processes/nope/heatmap/").status_code == 404


def test_pages_render_for_the_registrar_head(two_schools: dict[str, int]) -> None:
    client = page_as("registrar_head1")
    home = client.get("/monitor/", PERIOD)
    assert home.status_code == 200
    assert b"qj-monitor-card" in home.content
    process = client.get("/monitor/transcript_issuance/", PERIOD)
    assert process.status_code == 200
    assert b'id="heat-marks"' in process.content
    assert b"chart-data" in process.content
    diagram = client.get("/monitor/transcript_issuance/diagram.bpmn")
    assert diagram.status_code == 200
    assert b"bpmn:definitions" in diagram.content or b"definitions" in diagram.content
    overdue = client.get("/monitor/overdue/")
    assert overdue.status_code == 200
    assert f'data-task="{two_schools["late_task"]}"'.encode() in overdue.content
    assert client.get("/monitor/incidents/").status_code == 200


def test_every_table_downloads(two_schools: dict[str, int]) -> None:
    client = page_as("registrar_head1")
    csv = client.get("/monitor/", {**PERIOD, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "transcript" in csv.content.decode("utf-8-sig").lower() or csv.content
    for url, table in [
        ("/monitor/transcript_issuance/", "steps"),
        ("/monitor/transcript_issuance/", "trend"),
        ("/monitor/overdue/", "tasks"),
        ("/monitor/overdue/", "people"),
        ("/monitor/overdue/", "units"),
        ("/monitor/incidents/", ""),
    ]:
        response = client.get(url, {**PERIOD, "table": table, "format": "xlsx"})
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_heatmap_api(two_schools: dict[str, int]) -> None:
    body = api_as("registrar_head1").get("/api/monitor/processes/transcript_issuance/heatmap/", PERIOD).json()
    assert body["process"] == "transcript_issuance"
    assert {s["id"] for s in body["steps"]} >= {"review"}
    review = next(s for s in body["steps"] if s["id"] == "review")
    assert review["open"] == 1
    assert review["overdue"] == 1
    trend = api_as("registrar_head1").get("/api/monitor/processes/transcript_issuance/trend/", PERIOD).json()
    assert sum(w["finished"] for w in trend) == 2


def test_at_risk_api_and_one_click_reminder(two_schools: dict[str, int]) -> None:
    rows = api_as("registrar_head1").get("/api/monitor/at-risk/", {"overdue": "true"}).json()["results"]
    assert two_schools["late_task"] in [r["id"] for r in rows]
    # A dean of the other school neither sees nor reminds it; an auditor sees it but may not act.
    dean_rows = api_as("school_dean1").get("/api/monitor/at-risk/").json()["results"]
    assert two_schools["late_task"] not in [r["id"] for r in dean_rows]
    assert api_as("school_dean1").post(f"/api/monitor/tasks/{two_schools['late_task']}/remind/").status_code == 404
    assert api_as("auditor1").post(f"/api/monitor/tasks/{two_schools['late_task']}/remind/").status_code == 403
    response = page_as("registrar_head1").post(f"/monitor/tasks/{two_schools['late_task']}/remind/")
    assert response.status_code == 302
    reminder = HistoryEvent.objects.filter(instance_id=two_schools["chemistry"], kind="reminder").get()
    assert reminder.actor == user("registrar_head1")
    assert reminder.payload["by_hand"] is True


def test_workload_api(two_schools: dict[str, int]) -> None:
    people = api_as("registrar_head1").get("/api/monitor/workload/", {"by": "person"})
    assert people.status_code == 200
    units = api_as("registrar_head1").get("/api/monitor/workload/", {"by": "unit"}).json()
    assert sum(u["overdue"] for u in units) >= 1


def test_the_overdue_list_pages_from_the_last_task_shown(demo: None) -> None:
    now = timezone.now()
    case = make_case("transcript_issuance", started=now - timedelta(days=9))
    late = [
        make_task(case, "review", created=now - timedelta(days=9), due=now - timedelta(days=days)).pk
        for days in (5, 4, 3)
    ]
    facts_refresh()
    client = api_as("registrar_head1")
    everything = client.get("/api/monitor/at-risk/", {"overdue": "true", "page_size": 100}).json()
    shown, after = [], None
    while True:
        params = {"overdue": "true", "page_size": 2, **({"after": after} if after else {})}
        page = client.get("/api/monitor/at-risk/", params).json()
        assert page["count"] == everything["count"] >= 3
        shown += [r["id"] for r in page["results"]]
        if not page["has_next"]:
            assert page["next"] is None
            break
        after = page["next"]
    assert shown == [r["id"] for r in everything["results"]]  # every task once, in due order
    assert [t for t in shown if t in late] == late
    wrong = client.get("/api/monitor/at-risk/", {"after": 10**9})
    assert wrong.status_code == 400
    assert "after" in wrong.json()["fields"]
