"""Nothing can be done to someone else's task: seeing, claiming, releasing, delegating, completing, commenting,
attaching and downloading are refused (404 when the person may not even know the task exists, 403 otherwise)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.inbox.models import Attachment, Comment
from backend.inbox.services import attachment_create
from backend.workflow import services
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition
from tests.conftest import api_as, user
from tests.inbox.conftest import approve_review, attach_document, open_task, pdf_with_text, start_case

pytestmark = pytest.mark.django_db

OUTSIDERS = ["department_head2", "student1", "teacher5", "registrar_staff1"]


@pytest.fixture
def guarded(engine_test_process: ProcessDefinition) -> dict[str, Any]:
    """A head's review with a document and a file, as the people outside the case will try to reach it."""
    instance = start_case()
    review = open_task(instance, "review")
    document = attach_document(instance, "Explanatory note")
    attachment = attachment_create(
        task_id=review.pk, user=user("teacher1"), upload=SimpleUploadedFile("scan.pdf", pdf_with_text("Scan"))
    )
    return {"instance": instance, "task": review, "document": document, "attachment": attachment}


def requests(guarded: dict[str, Any], *, api: bool) -> list[tuple[str, str, dict[str, Any]]]:
    pk, document, attachment = guarded["task"].pk, guarded["document"].pk, guarded["attachment"].pk
    colleague = str(user("department_head2").pk)
    if api:
        return [
            ("get", f"/api/tasks/{pk}/", {}),
            ("get", f"/api/inbox/tasks/{pk}/", {}),
            ("get", f"/api/inbox/tasks/{pk}/history/", {}),
            ("post", f"/api/tasks/{pk}/claim/", {}),
            ("post", f"/api/tasks/{pk}/release/", {}),
            ("get", f"/api/inbox/tasks/{pk}/delegates/", {}),
            ("post", f"/api/inbox/tasks/{pk}/delegate/", {"to": "department_head2"}),
            ("post", f"/api/tasks/{pk}/complete/", {"decision": "approve"}),
            ("get", f"/api/inbox/tasks/{pk}/comments/", {}),
            ("post", f"/api/inbox/tasks/{pk}/comments/", {"text": "mine now"}),
            ("get", f"/api/inbox/tasks/{pk}/attachments/", {}),
            ("post", f"/api/inbox/tasks/{pk}/attachments/", {"file": SimpleUploadedFile("x.pdf", pdf_with_text("x"))}),
            ("get", f"/api/inbox/tasks/{pk}/attachments/{attachment}/", {}),
            ("get", f"/api/inbox/tasks/{pk}/documents/", {}),
            ("get", f"/api/inbox/tasks/{pk}/documents/{document}/pdf/", {}),
        ]
    return [
        ("get", f"/tasks/{pk}/", {}),
        ("post", f"/tasks/{pk}/claim/", {}),
        ("post", f"/tasks/{pk}/release/", {}),
        ("post", f"/tasks/{pk}/delegate/", {"to": colleague}),
        ("post", f"/tasks/{pk}/", {"decision": "approve"}),
        ("post", f"/tasks/{pk}/comments/", {"text": "mine now"}),
        ("post", f"/tasks/{pk}/attachments/", {"file": SimpleUploadedFile("x.pdf", pdf_with_text("x"))}),
        ("get", f"/tasks/{pk}/attachments/{attachment}/", {}),
        ("get", f"/tasks/{pk}/documents/{document}/pdf/", {}),
    ]


def assert_untouched(guarded: dict[str, Any]) -> None:
    task = HumanTask.objects.get(pk=guarded["task"].pk)
    assert (task.status, task.assignee_id) == ("open", None)
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 1
    kinds = set(HistoryEvent.objects.filter(instance=guarded["instance"]).values_list("kind", flat=True))
    assert kinds.isdisjoint({"claimed", "released", "delegated", "commented"})


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404_from_the_api(guarded: dict[str, Any], outsider: str) -> None:
    client = api_as(outsider)
    for method, url, body in requests(guarded, api=True):
        kwargs = {"format": "multipart"} if "attachments" in url and method == "post" else {"format": "json"}
        response = getattr(client, method)(url, body, **kwargs) if method == "post" else client.get(url)
        assert response.status_code == 404, (outsider, method, url, response.status_code)
    assert_untouched(guarded)


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404_from_the_pages(guarded: dict[str, Any], outsider: str) -> None:
    client = Client()
    client.force_login(user(outsider))
    for method, url, body in requests(guarded, api=False):
        response = getattr(client, method)(url, body)
        assert response.status_code == 404, (outsider, method, url, response.status_code)
        assert "Traceback" not in response.content.decode()
    assert_untouched(guarded)


def test_anonymous_visitors_are_sent_to_log_in(guarded: dict[str, Any]) -> None:
    for method, url, body in requests(guarded, api=False):
        response = getattr(Client(), method)(url, body)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], url
    for method, url, _body in requests(guarded, api=True):
        assert getattr(Client(), method)(url).status_code in (401, 403), url


def test_a_colleague_may_read_a_claimed_task_but_not_act_on_it(engine_test_process: ProcessDefinition) -> None:
    instance = start_case()
    approve_review(instance)
    check = open_task(instance, "registrar_check")
    services.task_claim(task_id=check.pk, user=user("registrar_staff1"))
    client = api_as("registrar_staff2")
    assert client.get(f"/api/inbox/tasks/{check.pk}/").status_code == 200
    assert client.post(f"/api/tasks/{check.pk}/complete/", {"ok": True}, format="json").status_code == 403
    assert client.post(f"/api/tasks/{check.pk}/release/").status_code == 403
    assert client.post(f"/api/tasks/{check.pk}/claim/").status_code == 409
    refused = client.post(f"/api/inbox/tasks/{check.pk}/delegate/", {"to": "registrar_staff1"}, format="json")
    assert refused.status_code == 403
    assert client.get(f"/api/inbox/tasks/{check.pk}/delegates/").json() == []

    page = Client()
    page.force_login(user("registrar_staff2"))
    assert page.post(f"/tasks/{check.pk}/", {"ok": "on"}).status_code == 403
    assert page.post(f"/tasks/{check.pk}/release/").status_code == 403
    assert page.post(f"/tasks/{check.pk}/delegate/", {"to": user("registrar_staff1").pk}).status_code == 403
    check.refresh_from_db()
    assert (check.status, check.assignee) == ("open", user("registrar_staff1"))


def test_a_task_of_another_case_cannot_reach_this_cases_files(guarded: dict[str, Any], logged_in: Any) -> None:
    other = open_task(start_case("teacher3"), "review")
    attachment = guarded["attachment"].pk
    # department_head1 may see both reviews, but a file belongs to its own case only.
    response = logged_in("department_head1").get(f"/tasks/{other.pk}/attachments/{attachment}/")
    assert response.status_code == 404
    assert api_as("department_head1").get(f"/api/inbox/tasks/{other.pk}/attachments/{attachment}/").status_code == 404
