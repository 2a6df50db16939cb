"""A task's page: the form with its decision buttons, the documents, claiming, delegating, comments and files."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.inbox.models import Attachment, Comment
from backend.workflow import services
from backend.workflow.history import verify_chain
from backend.workflow.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import api_as, user
from tests.inbox.conftest import approve_review, attach_document, open_task, pdf_with_text, start_case

pytestmark = pytest.mark.django_db


def test_the_review_form_offers_decision_buttons_and_a_comment(review_case: ProcessInstance, logged_in: Any) -> None:
    review = open_task(review_case, "review")
    page = logged_in("department_head1").get(f"/tasks/{review.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="decision" value="approve"' in html
    assert ">Approve</button>" in html
    assert 'name="decision" value="return"' in html
    assert ">Return</button>" in html
    assert '<label class="form-label" for="field-comment">Comment</label>' in html
    assert "<textarea" in html
    assert 'maxlength="2000"' in html
    assert "Required when you choose: Return." in html


def test_returning_without_the_reason_shows_the_error_by_the_field_and_keeps_the_input(
    engine_test_process: ProcessDefinition, logged_in: Any
) -> None:
    instance = start_case()
    review = open_task(instance, "review")
    client = logged_in("department_head1")
    response = client.post(f"/tasks/{review.pk}/", {"decision": "return", "comment": "   "})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="errors-comment">This field is required.<' in html
    assert 'aria-invalid="true"' in html
    assert open_task(instance, "review").pk == review.pk  # nothing changed

    # A bad value elsewhere keeps what was typed in the other fields.
    write = services.instance_start(
        process_key="qujat_engine_test",
        user=user("teacher1"),
        data={"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0},
    )
    write_task = open_task(write, "write")
    response = logged_in("teacher1").post(f"/tasks/{write_task.pk}/", {"title": "My journal", "days": "99"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="My journal"' in html
    assert 'value="99"' in html
    assert 'data-testid="errors-days">Must be at most 30.<' in html

    response = client.post(f"/tasks/{review.pk}/", {"decision": "return", "comment": "Add the date, please"})
    assert response.status_code == 302
    assert open_task(instance, "write").assignee == user("teacher1")


def test_approving_moves_the_case_to_the_next_inboxes(review_case: ProcessInstance, logged_in: Any) -> None:
    review = open_task(review_case, "review")
    response = logged_in("department_head1").post(f"/tasks/{review.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    assert api_as("department_head1").get("/api/inbox/").json()["results"] == []
    [dean] = api_as("school_dean1").get("/api/inbox/").json()["results"]
    assert dean["title"] == "Dean's check"
    # The completed task stays readable for the head who decided it, without a form.
    page = logged_in("department_head1").get(f"/tasks/{review.pk}/").content.decode()
    assert 'data-testid="task-form"' not in page
    assert "Completed by" in page


def test_the_documents_of_the_case_are_shown_and_served_only_to_those_who_may_see_the_task(
    review_case: ProcessInstance, logged_in: Any
) -> None:
    document = attach_document(review_case, "Explanatory note of teacher1")
    review = open_task(review_case, "review")
    client = logged_in("department_head1")
    html = client.get(f"/tasks/{review.pk}/").content.decode()
    url = f"/tasks/{review.pk}/documents/{document.pk}/pdf/"
    assert f'data-pdf-url="{url}"' in html
    assert "vendor/pdfjs/pdf.min.mjs" in html

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert logged_in("department_head2").get(url).status_code == 404
    assert logged_in("student1").get(url).status_code == 404

    api = api_as("department_head1").get(f"/api/inbox/tasks/{review.pk}/documents/").json()
    assert api == [
        {
            "id": document.pk,
            "kind": "explanatory_note",
            "title": "Explanatory note",
            "number": "",
            "status": "ready",
            "pdf": f"/api/inbox/tasks/{review.pk}/documents/{document.pk}/pdf/",
        }
    ]
    assert api_as("department_head1").get(api[0]["pdf"]).status_code == 200
    assert api_as("department_head2").get(api[0]["pdf"]).status_code == 404
    # Another case's document is not reachable through this task.
    other = start_case("teacher3")
    foreign = attach_document(other, "Someone else's note")
    assert client.get(f"/tasks/{review.pk}/documents/{foreign.pk}/pdf/").status_code == 404


def test_claim_release_and_delegate_to_a_colleague(engine_test_process: ProcessDefinition, logged_in: Any) -> None:
    instance = start_case()
    approve_review(instance)
    check = open_task(instance, "registrar_check")
    staff1 = logged_in("registrar_staff1")

    page = staff1.get(f"/tasks/{check.pk}/").content.decode()
    assert "Claim this task" in page
    assert f'<option value="{user("registrar_staff2").pk}">' in page  # the only eligible colleague
    assert staff1.post(f"/tasks/{check.pk}/claim/").status_code == 302
    check.refresh_from_db()
    assert check.assignee == user("registrar_staff1")
    page = logged_in("registrar_staff2").get(f"/tasks/{check.pk}/").content.decode()
    assert 'data-testid="read-only"' in page
    assert 'data-testid="task-form"' not in page

    assert staff1.post(f"/tasks/{check.pk}/release/").status_code == 302
    check.refresh_from_db()
    assert check.assignee is None

    response = staff1.post(f"/tasks/{check.pk}/delegate/", {"to": user("registrar_staff2").pk})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.assignee == user("registrar_staff2")
    assert HistoryEvent.objects.filter(instance=instance, kind="delegated").count() == 1

    # Through the API: the picker lists colleagues; a non-colleague is refused with a field message.
    delegates = api_as("registrar_staff2").get(f"/api/inbox/tasks/{check.pk}/delegates/").json()
    assert [d["username"] for d in delegates] == ["registrar_staff1"]
    refused = api_as("registrar_staff2").post(
        f"/api/inbox/tasks/{check.pk}/delegate/", {"to": "teacher1"}, format="json"
    )
    assert refused.status_code == 400
    assert "to_user" in refused.json()["fields"]
    back = api_as("registrar_staff2").post(
        f"/api/inbox/tasks/{check.pk}/delegate/", {"to": "registrar_staff1"}, format="json"
    )
    assert back.status_code == 200
    assert back.json()["assignee"]["username"] == "registrar_staff1"


def test_comments_are_shared_with_the_participants_and_recorded_in_the_history(
    review_case: ProcessInstance, logged_in: Any
) -> None:
    review = open_task(review_case, "review")
    response = logged_in("department_head1").post(f"/tasks/{review.pk}/comments/", {"text": "Which lesson?"})
    assert response.status_code == 302
    answer = api_as("teacher1").post(
        f"/api/inbox/tasks/{review.pk}/comments/", {"text": "The lecture of 12 March"}, format="json"
    )
    assert answer.status_code == 201
    texts = [c["text"] for c in api_as("department_head1").get(f"/api/inbox/tasks/{review.pk}/comments/").json()]
    assert texts == ["Which lesson?", "The lecture of 12 March"]
    events = HistoryEvent.objects.filter(instance=review_case, kind="commented").order_by("seq")
    assert [e.payload["text"] for e in events] == texts
    assert verify_chain(HistoryEvent.objects.filter(instance=review_case).order_by("seq")) is None
    page = logged_in("teacher1").get(f"/tasks/{review.pk}/").content.decode()
    assert "Which lesson?" in page

    blank = api_as("teacher1").post(f"/api/inbox/tasks/{review.pk}/comments/", {"text": "  "}, format="json")
    assert blank.status_code == 400
    assert blank.json()["fields"] == {"text": ["This field may not be blank."]}
    # The auditor may read the case but does not take part in it.
    assert api_as("auditor1").get(f"/api/inbox/tasks/{review.pk}/comments/").status_code == 200
    refused = api_as("auditor1").post(f"/api/inbox/tasks/{review.pk}/comments/", {"text": "x"}, format="json")
    assert refused.status_code == 403
    assert Comment.objects.count() == 2


def docx_bytes(main_part: str = "word/document.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(main_part, "<document/>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("scan.pdf", pdf_with_text("Scan"), "pdf"),
        ("memo.docx", docx_bytes(), "docx"),
        ("marks.xlsx", docx_bytes("xl/workbook.xml"), "xlsx"),
        ("photo.png", PNG, "png"),
        ("photo.JPG", JPEG, "jpeg"),
    ],
)
def test_the_five_accepted_file_types(review_case: ProcessInstance, name: str, content: bytes, kind: str) -> None:
    review = open_task(review_case, "review")
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = api_as("teacher1").post(
        f"/api/inbox/tasks/{review.pk}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == kind
    download = api_as("department_head1").get(response.json()["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert f'filename="{name}"' in download["Content-Disposition"]
    event = HistoryEvent.objects.get(instance=review_case, kind="attached")
    assert event.payload["name"] == name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.pdf", b"MZ\x90\x00 an executable"),  # the extension lies
        ("scan.png", pdf_with_text("Scan")),  # a real PDF under the wrong name
        ("archive.docx", docx_bytes("other/part.xml")),  # a ZIP, but not a Word document
        ("notes.txt", b"plain text"),
        ("script.html", b"<script>alert(1)</script>"),
    ],
)
def test_other_files_are_refused_by_their_content(
    review_case: ProcessInstance, logged_in: Any, name: str, content: bytes
) -> None:
    review = open_task(review_case, "review")
    upload = SimpleUploadedFile(name, content)
    response = api_as("teacher1").post(
        f"/api/inbox/tasks/{review.pk}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["fields"]
    page = logged_in("teacher1").post(f"/tasks/{review.pk}/attachments/", {"file": SimpleUploadedFile(name, content)})
    assert page.status_code == 302
    assert Attachment.objects.count() == 0
    assert not HistoryEvent.objects.filter(instance=review_case, kind="attached").exists()


def test_files_above_the_limit_are_refused(review_case: ProcessInstance, settings: Any) -> None:
    settings.QUJAT_ATTACHMENT_MAX_BYTES = 1024
    review = open_task(review_case, "review")
    big = SimpleUploadedFile("big.pdf", pdf_with_text("x") + b"0" * 2048)
    response = api_as("teacher1").post(f"/api/inbox/tasks/{review.pk}/attachments/", {"file": big}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"]["file"] == ["Files up to 1.0\xa0KB are accepted."]
    assert Attachment.objects.count() == 0


def test_the_task_page_api_has_everything_the_page_shows(review_case: ProcessInstance) -> None:
    attach_document(review_case, "Explanatory note")
    review = open_task(review_case, "review")
    api_as("teacher1").post(f"/api/inbox/tasks/{review.pk}/comments/", {"text": "Please"}, format="json")
    body = api_as("department_head1").get(f"/api/inbox/tasks/{review.pk}/").json()
    assert body["title"] == "Head's review"
    assert body["can_complete"] is True
    assert body["can_claim"] is True
    assert body["can_release"] is False
    assert body["form"]["properties"]["decision"]["x-choices"][0] == {"value": "approve", "label": "Approve"}
    assert [d["title"] for d in body["documents"]] == ["Explanatory note"]
    assert [c["text"] for c in body["comments"]] == ["Please"]
    assert [e["kind"] for e in body["history"]][:3] == ["started", "task_created", "completed"]
    assert body["history"][0]["text"] == f"{user('teacher1').full_name} started the case."


def test_a_task_page_speaks_the_chosen_language(review_case: ProcessInstance, logged_in: Any) -> None:
    review = open_task(review_case, "review")
    client = logged_in("department_head1")
    client.cookies["django_language"] = "ru"
    html = client.get(f"/tasks/{review.pk}/").content.decode()
    assert "Рассмотрение заведующим" in html
    assert ">Согласовать</button>" in html
    assert 'lang="ru"' in html


def test_a_completed_task_cannot_be_completed_twice(review_case: ProcessInstance, logged_in: Any) -> None:
    review = open_task(review_case, "review")
    client = logged_in("department_head1")
    assert client.post(f"/tasks/{review.pk}/", {"decision": "approve"}).status_code == 302
    again = client.post(f"/tasks/{review.pk}/", {"decision": "approve"}, follow=True)
    assert "already been completed" in again.content.decode()
    assert HumanTask.objects.filter(instance=review_case, spec_id="review").count() == 1
