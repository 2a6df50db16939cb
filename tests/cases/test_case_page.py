"""The case page: the path on the version's diagram, the humanised timeline, the integrity check computed now."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from backend.cases.casefile import case_file
from backend.cases.models import CaseAccess
from backend.workflow.models import HistoryEvent, ProcessInstance
from tests.conftest import user

pytestmark = pytest.mark.django_db


def page(username: str, number: str, language: str = "en") -> tuple[int, str]:
    client = Client()
    client.force_login(user(username))
    client.cookies["django_language"] = language
    response = client.get(f"/cases/{number}/", HTTP_ACCEPT_LANGUAGE=language)
    return response.status_code, response.content.decode()


def marks_of(html: str) -> dict:
    found = re.search(r'<script id="case-marks" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_a_loop_back_shows_the_path_the_counts_and_where_the_case_stands(looped_case: ProcessInstance) -> None:
    status, html = page("auditor1", looped_case.number)

    assert status == 200
    marks = marks_of(html)
    markers = marks["markers"]
    # The request was written twice (returned once), the review ran twice; both checks wait now.
    assert marks["badges"]["write"][0]["text"] == "×2"
    assert marks["badges"]["review"][0]["text"] == "×2"
    assert "qj-done" in markers["write"]
    assert "qj-done" in markers["returned_note"]
    assert "qj-current" in markers["dean_check"]
    assert "qj-current" in markers["registrar_check"]
    assert "done" not in markers
    # The flows taken, both out of the decision: the return, then the approval; never the end.
    for flow in ("Flow_decided_returned_note", "Flow_returned_note_write", "Flow_decided_split", "Flow_start_write"):
        assert markers[flow] == ["qj-taken"], flow
    assert "Flow_join_done" not in markers
    # Durations are badged on the user tasks people worked on.
    assert any(b["title"] == "time taken" for b in marks["badges"]["review"])


def test_the_timeline_is_humanised_without_step_ids(looped_case: ProcessInstance) -> None:
    _status, html = page("auditor1", looped_case.number)

    text = re.sub(r"<[^>]+>", " ", html.split('id="case-timeline"')[1].split("</ol>")[0])
    assert "Add the dates" in text  # the head's comment on the return
    assert "Return" in text
    assert "Approve" in text
    for step_id in ("dean_check", "registrar_check", "returned_note", "qujat_engine_test"):
        assert step_id not in text
    assert "Integrity check" in html
    assert "events, chain intact" in html


def test_gateways_show_the_branch_chosen(looped_case: ProcessInstance) -> None:
    file = case_file(looped_case)

    branches = [(c.gateway_name, c.branch, dict(c.data)) for c in file.gateway_choices]
    # Each choice with the data it was made on at the time (the first was a return, the second an approval).
    assert ("Decision?", "returned", {"decision": "return"}) in branches  # the default flow
    assert ("Decision?", "approved", {"decision": "approve"}) in branches


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_page_speaks_the_reader_s_language(looped_case: ProcessInstance, language: str) -> None:
    status, html = page("auditor1", looped_case.number, language)

    assert status == 200
    expected = {"kk": "Тұтастықты тексеру", "ru": "Проверка целостности"}[language]
    assert expected in html


def test_opening_a_case_is_recorded_in_the_access_log(looped_case: ProcessInstance) -> None:
    page("auditor1", looped_case.number)

    entry = CaseAccess.objects.get(instance=looped_case)
    assert (entry.user.username, entry.action) == ("auditor1", "opened")
    client = Client()
    client.force_login(user("registrar_head1"))
    log = client.get("/cases/access-log/").content.decode()
    assert looped_case.number in log
    assert user("auditor1").full_name in log
    client.force_login(user("auditor1"))
    assert client.get("/cases/access-log/").status_code == 404


def _broken_at(number: str) -> tuple[str | None, dict]:
    status, html = page("auditor1", number)
    assert status == 200
    found = re.search(r'data-testid="integrity" data-intact="(\w+)"(?: data-broken-at="(\d+)")?', html)
    assert found
    client = Client()
    client.force_login(user("auditor1"))
    api = client.get(f"/api/cases/{number}/").json()["integrity"]
    return found.group(2), api


def test_an_edited_event_is_reported_at_that_event(looped_case: ProcessInstance) -> None:
    HistoryEvent.objects.filter(instance=looped_case, seq=5).update(payload={"forged": True})

    at, api = _broken_at(looped_case.number)

    assert at == "5"
    assert api["broken_at"] == 5
    assert api["intact"] is False
    assert "edited" in api["summary"]


def test_a_deleted_event_is_reported_where_it_is_missing(looped_case: ProcessInstance) -> None:
    HistoryEvent.objects.filter(instance=looped_case, seq=4).delete()

    at, api = _broken_at(looped_case.number)

    assert at == "5"
    assert api["broken_at"] == 5


def test_an_inserted_event_is_reported(looped_case: ProcessInstance) -> None:
    last = HistoryEvent.objects.filter(instance=looped_case).order_by("-seq").first()
    assert last is not None
    HistoryEvent.objects.create(
        instance=looped_case, seq=last.seq + 1, kind="note", at=last.at, payload={}, prev_hash=last.hash, hash="f" * 64
    )

    at, api = _broken_at(looped_case.number)

    assert at == str(last.seq + 1)
    assert api["broken_at"] == last.seq + 1


def test_an_intact_case_says_so(looped_case: ProcessInstance) -> None:
    at, api = _broken_at(looped_case.number)

    assert at is None
    assert api["intact"] is True
    assert api["events"] == looped_case.history_count


def returned(times: int, username: str) -> ProcessInstance:
    """A case the head returned `times` times before approving it."""
    from backend.workflow import services
    from tests.inbox.conftest import open_task, start_case

    instance = start_case(username)
    head = user("department_head1")
    for _ in range(times):
        services.task_complete(
            task_id=open_task(instance, "review").pk, user=head, data={"decision": "return", "comment": "Again"}
        )
        services.task_complete(
            task_id=open_task(instance, "write").pk, user=user(username), data={"title": "J", "days": 2}
        )
    services.task_complete(task_id=open_task(instance, "review").pk, user=head, data={"decision": "approve"})
    instance.refresh_from_db()
    return instance


def test_the_page_costs_the_same_queries_however_long_the_history(engine_test_process: object) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short, long = returned(1, "teacher1"), returned(6, "teacher2")
    assert long.history_count > 2 * short.history_count
    client = Client()
    client.force_login(user("auditor1"))

    def queries(number: str) -> int:
        client.get(f"/cases/{number}/")  # the path read from the engine state is kept after the first look
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/cases/{number}/").status_code == 200
        return len(captured)

    assert queries(long.number) == queries(short.number)
