"""Bad input gets a 400 with field messages in the API's one JSON shape (or the page's form), never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.inbox.models import Attachment
from backend.workflow.models import HumanTask, ProcessInstance
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

NOT_OBJECTS = ["[1,2]", '"ab"', "42", "null", "[{}]", '[["decision","approve"]]', "true"]
TRANSCRIPT = {"reason": "Жұмысқа ұсыну үшін", "language": "kk"}


def post_raw(client: APIClient, url: str, body: str | bytes) -> Any:
    return client.generic("POST", url, body, content_type="application/json")


def assert_refused(response: Any, *fields: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}
    for field in fields:
        assert field in body["fields"], body
    return body


def review_task() -> HumanTask:
    started = api_as("student1").post("/api/processes/transcript_issuance/start/", TRANSCRIPT)
    assert started.status_code == 201, started.json()
    return HumanTask.objects.get(instance_id=started.json()["id"], status=HumanTask.Status.OPEN)


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_start_body_that_is_not_an_object_is_refused(demo: None, body: str) -> None:
    before = ProcessInstance.objects.count()
    assert_refused(post_raw(api_as("student1"), "/api/processes/transcript_issuance/start/", body), "non_field_errors")
    assert ProcessInstance.objects.count() == before


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_completion_body_that_is_not_an_object_is_refused_and_completes_nothing(demo: None, body: str) -> None:
    task = review_task()
    assert_refused(post_raw(api_as("registrar_staff1"), f"/api/tasks/{task.pk}/complete/", body), "non_field_errors")
    task.refresh_from_db()
    assert task.status == HumanTask.Status.OPEN


def test_json_nested_fifty_thousand_levels_deep_is_refused(demo: None) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    assert_refused(post_raw(api_as("student1"), "/api/processes/transcript_issuance/start/", '{"a": ' + deep + "}"))
    modest = {"reason": "x" * 5, "language": "kk", "periods": json.loads("[" * 25 + "]" * 25)}
    assert_refused(api_as("student1").post("/api/processes/transcript_issuance/start/", modest))


def test_a_body_above_the_size_limit_is_refused(demo: None, settings: Any) -> None:
    settings.QUJAT_API_MAX_BODY_BYTES = 1000
    body = json.dumps({**TRANSCRIPT, "reason": "ә" * 600})
    response = post_raw(api_as("student1"), "/api/processes/transcript_issuance/start/", body)
    assert response.status_code == 413, response.content[:500]
    refused = response.json()
    assert set(refused) == {"detail", "code", "fields"}
    assert refused["code"] == "too_large"
    assert "too large" in refused["detail"]


def test_malformed_json_is_refused(demo: None) -> None:
    assert_refused(post_raw(api_as("student1"), "/api/processes/transcript_issuance/start/", '{"reason": '))
    assert_refused(post_raw(api_as("student1"), "/api/processes/transcript_issuance/start/", b"\xff\xfe{}"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": ["teachers"]}, "kind"),
        ({"kind": "teachers", "teachers": "many"}, "teachers"),
        ({"kind": "students", "group": "abc"}, "group"),
        ({"kind": "students", "group": 10**20}, "group"),
        ({"kind": "offboarding", "account": "teacher1"}, "reason"),
        ({"kind": "students", "group": 1, "teachers": []}, "teachers"),
    ],
)
def test_wrongly_typed_login_request_fields_are_named(demo: None, body: dict[str, Any], field: str) -> None:
    assert_refused(api_as("department_head1").post("/api/processes/login_request/start/", body), field)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/reopen/reports/?period=abc", "period"),
        ("/api/reopen/reports/?period=99999999999999", "period"),
        ("/api/reopen/reports/?period=1&export=pdf", "export"),
        ("/api/transcripts/periods/?student=abc", "student"),
        ("/api/transcripts/registry/?year=99999", "year"),
        ("/api/transcripts/registry/?year=abc", "year"),
        ("/api/transcripts/registry/?export=exe", "export"),
        ("/api/reopen/requests/?academic_year=%00", "academic_year"),
    ],
)
def test_bad_query_parameters_are_named(demo: None, url: str, field: str) -> None:
    username = "registrar_head1"
    assert_refused(api_as(username).get(url), field)


@pytest.mark.parametrize("text", ["Себеп\x00жасырын", "Себеп\u202eніскер", "Себеп\x1bжасырын", "Себеп\x7f"])
def test_control_characters_are_refused_with_a_field_message(demo: None, text: str) -> None:
    refused = assert_refused(
        api_as("student1").post("/api/processes/transcript_issuance/start/", {**TRANSCRIPT, "reason": text}), "reason"
    )
    assert "control characters" in refused["fields"]["reason"][0]


def test_line_breaks_only_where_text_is_multi_line(demo: None) -> None:
    # A transcript's reason is one line; a visa comment may have several
    assert_refused(
        api_as("student1").post("/api/processes/transcript_issuance/start/", {**TRANSCRIPT, "reason": "Бір\nекі"}),
        "reason",
    )
    task = review_task()
    refused = api_as("registrar_staff1").post(
        f"/api/tasks/{task.pk}/complete/", {"decision": "approve", "comment": "Жол\x00"}
    )
    assert refused.status_code == 400


def test_control_characters_in_names_of_a_login_request_are_refused(demo: None) -> None:
    from tests.access.conftest import teacher
    from tests.access.test_decisions import teachers_body

    body = teachers_body(teachers=[teacher(1, last_name="Әбді\u202eғалиева", position="Ассистент\x00")])
    refused = assert_refused(
        api_as("department_head1").post("/api/processes/login_request/start/", body),
        "teachers.0.last_name",
        "teachers.0.position",
    )
    assert refused["code"] == "invalid"


def test_unknown_api_addresses_and_methods_answer_json(demo: None) -> None:
    client = api_as("student1")
    missing = client.get("/api/no-such-thing/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/api/processes/")
    assert wrong.status_code == 405
    assert set(wrong.json()) == {"detail", "code", "fields"}
    anonymous = APIClient().get("/api/tasks/", HTTP_ACCEPT="text/html")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith("application/json")


def page_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_a_start_date_in_2030_on_the_page_gets_a_field_message(demo: None) -> None:
    from backend.access import selectors

    department = selectors.headed_departments(User.objects.get(username="department_head1"))[0]
    page = page_client("department_head1").post(
        "/access/new/",
        {
            "department": department.code,
            "teachers-TOTAL_FORMS": "1",
            "teachers-INITIAL_FORMS": "0",
            "teachers-MIN_NUM_FORMS": "1",
            "teachers-MAX_NUM_FORMS": "30",
            "teachers-0-position": "Ассистент",
            "teachers-0-last_name": "Әбдіғалиева",
            "teachers-0-first_name": "Гүлнұр",
            "teachers-0-email": "g.abdigaliyeva@new.kaznmu.kz",
            "teachers-0-start_date": "2030-09-01",
        },
    )
    assert page.status_code == 200
    assert "The start date must lie within the coming year." in page.content.decode()


def test_a_two_letter_reason_on_the_transcript_page_gets_a_field_message(demo: None) -> None:
    page = page_client("student1").post(
        "/transcripts/new/",
        {"kind": "standard", "whole": "on", "reason": "ab", "language": "kk", "electronic": "on", "paper_copies": "0"},
    )
    assert page.status_code == 200
    assert "Enter at least 3 characters." in page.content.decode()


@pytest.mark.parametrize(
    "url", ["/transcripts/registry/?year=99999", "/transcripts/registry/?export=exe", "/reopen/report/?period=abc"]
)
def test_bad_query_parameters_on_pages_get_a_plain_400_page(demo: None, url: str) -> None:
    page = page_client("registrar_head1").get(url)
    assert page.status_code == 400
    assert 'data-testid="refused"' in page.content.decode()


def test_multipart_bodies_above_the_limits_are_refused_in_the_one_shape(demo: None, settings: Any) -> None:
    task = review_task()
    client = api_as("registrar_staff1")
    url = f"/api/inbox/tasks/{task.pk}/attachments/"
    # Form fields beyond Django's DATA_UPLOAD_MAX_MEMORY_SIZE: a 413, not a server error or an HTML page.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(url, {"note": "x" * 5000, "file": ("a.txt", b"a")}, format="multipart")
    assert response.status_code == 413, response.content[:500]
    assert set(response.json()) == {"detail", "code", "fields"}
    # A file above the attachment limit: a field message on "file".
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
    settings.QUJAT_ATTACHMENT_MAX_BYTES = 100
    response = client.post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 " + b"x" * 500)}, format="multipart")
    assert_refused(response, "file")
    assert not Attachment.objects.filter(instance=task.instance).exists()
