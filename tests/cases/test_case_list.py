"""The list of cases: who sees which, the search, the order, constant queries per page, the downloads."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from backend.cases.models import CaseAccess
from backend.workflow.models import ProcessDefinition, ProcessInstance
from tests.conftest import user
from tests.inbox.conftest import start_case

from .conftest import returned_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(engine_test_process: ProcessDefinition) -> dict[str, ProcessInstance]:
    return {
        "teacher1": returned_once("teacher1"),
        "teacher2": start_case("teacher2"),
        "teacher3": start_case("teacher3"),
    }


def numbers(username: str, **params: Any) -> list[str]:
    client = Client()
    client.force_login(user(username))
    response = client.get("/api/cases/", params)
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_auditors_and_the_registrar_head_see_every_case(cases: dict[str, ProcessInstance]) -> None:
    everything = {case.number for case in cases.values()}
    assert everything <= set(numbers("auditor1"))
    assert everything <= set(numbers("registrar_head1"))


def test_a_requester_sees_their_own_cases_only(cases: dict[str, ProcessInstance]) -> None:
    assert numbers("teacher2") == [cases["teacher2"].number]
    assert numbers("teacher4") == []


def test_a_participant_sees_the_cases_they_took_part_in(cases: dict[str, ProcessInstance]) -> None:
    # department_head1 reviewed every case (they are offered the review).
    assert {case.number for case in cases.values()} <= set(numbers("department_head1"))


def test_search_by_number_finds_exactly_one_case(cases: dict[str, ProcessInstance]) -> None:
    assert numbers("auditor1", number=cases["teacher2"].number) == [cases["teacher2"].number]
    assert numbers("auditor1", number=cases["teacher2"].number.lower()) == [cases["teacher2"].number]


def test_search_by_person_finds_requests_and_participation(cases: dict[str, ProcessInstance]) -> None:
    assert numbers("auditor1", person="teacher3") == [cases["teacher3"].number]
    head = user("department_head1")
    by_head = numbers("auditor1", person=f"{head.last_name} {head.first_name}")
    assert cases["teacher1"].number in by_head  # the head completed its reviews


def test_filters_by_process_version_status_dates_and_unit(cases: dict[str, ProcessInstance]) -> None:
    everything = {case.number for case in cases.values()}
    assert everything <= set(numbers("auditor1", process="qujat_engine_test", version=1, status="running"))
    assert numbers("auditor1", process="qujat_engine_test", status="completed") == []
    today = timezone.localdate(cases["teacher1"].started_at).isoformat()
    assert everything <= set(numbers("auditor1", started_from=today, started_to=today))
    assert everything <= set(numbers("auditor1", unit="school-medicine"))


def test_sorting(cases: dict[str, ProcessInstance]) -> None:
    ascending = numbers("auditor1", process="qujat_engine_test", sort="number")
    assert ascending == sorted(ascending)
    assert numbers("auditor1", process="qujat_engine_test", sort="-number") == ascending[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"started_from": "yesterday"}, "started_from"),
        ({"started_from": "2026-02-02", "started_to": "2026-02-01"}, "started_to"),
        ({"version": "x"}, "version"),
        ({"sort": "random"}, "sort"),
        ({"unit": "no-such-unit"}, "unit"),
        ({"page_size": "1000"}, "page_size"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(
    cases: dict[str, ProcessInstance], params: dict[str, str], field: str
) -> None:
    client = Client()
    client.force_login(user("auditor1"))
    response = client.get("/api/cases/", params)
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "fields"}
    assert field in response.json()["fields"]
    assert client.get("/cases/", params).status_code == 400


def test_pages_cost_the_same_queries_however_many_cases(
    engine_test_process: ProcessDefinition, django_assert_max_num_queries: Any, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        start_case(f"teacher{n + 1}")
    client = Client()
    client.force_login(user("auditor1"))
    client.get("/api/cases/")  # the session and the roles are read once either way

    def count(path: str, params: dict[str, str]) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, params).status_code == 200
        return len(captured)

    small = (count("/api/cases/", {}), count("/cases/", {}), count("/api/cases/", {"person": "teacher1"}))
    for n in range(12):
        start_case(f"teacher{n % 10 + 1}")
    large = (count("/api/cases/", {}), count("/cases/", {}), count("/api/cases/", {"person": "teacher1"}))
    assert small == large
    assert large[0] <= 6


def test_past_the_counting_limit_the_list_says_more_than(
    cases: dict[str, ProcessInstance], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.cases import selectors

    monkeypatch.setattr(selectors, "COUNT_LIMIT", 2)
    client = Client()
    client.force_login(user("auditor1"))

    body = client.get("/api/cases/", {"page_size": "10"}).json()
    assert (body["count"], body["more"], body["pages"]) == (2, True, 1)
    assert len(body["results"]) == 3  # the page itself shows what is there
    html = client.get("/cases/").content.decode()
    assert "More than 2 cases: narrow the search" in html
    # A narrower search is counted exactly again.
    body = client.get("/api/cases/", {"person": "teacher2"}).json()
    assert (body["count"], body["more"]) == (1, False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_list_downloads_as_csv_and_xlsx(cases: dict[str, ProcessInstance], fmt: str) -> None:
    client = Client()
    client.force_login(user("teacher2"))
    response = client.get("/cases/", {"export": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [[str(v) if v is not None else "" for v in row] for row in sheet.iter_rows(values_only=True)]
    assert [row[0] for row in rows[1:]] == [cases["teacher2"].number]  # only the person's own case
    assert CaseAccess.objects.filter(user=user("teacher2"), action="list_exported").count() == 1


def test_the_menu_offers_cases(cases: dict[str, ProcessInstance]) -> None:
    client = Client()
    client.force_login(user("auditor1"))
    assert 'href="/cases/"' in client.get("/").content.decode()
