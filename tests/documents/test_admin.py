"""The admin: uploaded templates are test-rendered before they are accepted; documents are read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.accounts.models import User
from backend.documents.models import DocumentTemplate
from backend.documents.services import document_generate_now

from .conftest import INJECTION, PdfText, docx_with, example

ADD_URL = "/admin/documents/documenttemplate/add/"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo: None) -> Client:
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


def upload(client: Client, content: bytes, kind: str = "explanatory_note", language: str = "ru") -> Any:
    return client.post(
        ADD_URL,
        {"kind": kind, "language": language, "file": SimpleUploadedFile(f"{kind}.docx", content, DOCX)},
    )


def stored_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def test_an_upload_that_reaches_into_python_is_refused_and_not_saved(admin_client: Client, settings: Any) -> None:
    # When an administrator uploads a template probing the sandbox
    response = upload(admin_client, docx_with("Объяснительная", INJECTION))

    # Then the form comes back with the reason on the file field, and nothing was stored
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Python internals" in errors["file"][0]
    assert not DocumentTemplate.objects.exists()
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.parametrize(
    ("paragraphs", "reason"),
    [
        # docxtpl mends a tag split across runs, but not one with a space typed into its braces
        ([["Дисциплина: { {", " discipline }}"]], "leaves Jinja tags"),
        (["Дисциплина: {{ discipline }"], "broken tag"),
        (["{% for row in rows %}{{ row }}"], "broken tag"),
    ],
)
def test_an_upload_that_does_not_render_cleanly_is_refused(
    admin_client: Client, paragraphs: list[Any], reason: str
) -> None:
    response = upload(admin_client, docx_with(*paragraphs))
    assert response.status_code == 200
    assert reason in response.context["adminform"].form.errors["file"][0]
    assert not DocumentTemplate.objects.exists()


def test_a_file_that_is_not_a_word_document_is_refused(admin_client: Client) -> None:
    response = upload(admin_client, b"%PDF-1.7 not a template")
    assert "not a Word document" in response.context["adminform"].form.errors["file"][0]


def test_a_language_the_kind_does_not_exist_in_is_refused(admin_client: Client) -> None:
    response = upload(admin_client, docx_with("Memo {{ date }}"), kind="login_request", language="en")
    assert "language" in response.context["adminform"].form.errors
    assert not DocumentTemplate.objects.exists()


@pytest.mark.converter
def test_an_accepted_upload_is_used_for_new_documents_until_it_is_deactivated(admin_client: Client) -> None:
    # Given an administrator uploads a reworded note that renders cleanly with the example
    response = upload(admin_client, docx_with("Изменённая форма: {{ discipline }} — {{ teacher.name }}"))
    assert response.status_code == 302
    uploaded = DocumentTemplate.objects.get()
    assert uploaded.is_active
    assert uploaded.uploaded_by == User.objects.get(username="admin")

    # When a note is generated, then it is filled from the uploaded template
    context = example("explanatory_note", "ru")
    document = document_generate_now(kind="explanatory_note", language="ru", context=context, key="one")
    assert document.template == uploaded
    assert "Изменённая форма: Анатомия & физиология <база> — Әбдіғалиева Гүлнұр Қайратқызы" in PdfText(
        document.pdf.read()
    )

    # When a second version is uploaded, then it replaces the first
    upload(admin_client, docx_with("Вторая редакция: {{ discipline }}"))
    second = DocumentTemplate.objects.get(is_active=True)
    assert second != uploaded

    # When it is deactivated, then the shipped template is used again
    response = admin_client.post(f"/admin/documents/documenttemplate/{second.pk}/change/", {"is_active": ""})
    assert response.status_code == 302
    assert not DocumentTemplate.objects.filter(is_active=True).exists()
    document = document_generate_now(kind="explanatory_note", language="ru", context=context, key="two")
    assert document.template is None
    assert "Объяснительная" in PdfText(document.pdf.read())


@pytest.mark.converter
def test_generated_documents_are_read_only_with_links_to_their_files(admin_client: Client) -> None:
    # Given a generated memo
    document = document_generate_now(
        kind="login_request", language="kk", context=example("login_request", "kk"), key="memo"
    )

    # When the administrator opens it, then its files are linked and nothing can be changed
    page = admin_client.get(f"/admin/documents/generateddocument/{document.pk}/change/")
    assert page.status_code == 200
    assert document.pdf.url in page.content.decode()
    assert document.docx.url in page.content.decode()
    assert document.pdf_sha256 in page.content.decode()
    assert admin_client.post(f"/admin/documents/generateddocument/{document.pk}/change/", {}).status_code == 403
    assert admin_client.get("/admin/documents/generateddocument/add/").status_code == 403


@pytest.mark.converter
def test_the_document_admin_pages_open(admin_client: Client) -> None:
    document_generate_now(kind="calendar_plan", language="ru", context=example("calendar_plan", "ru"), key="plan")
    for page in ("generateddocument", "documenttemplate", "documentnumbersequence"):
        assert admin_client.get(f"/admin/documents/{page}/").status_code == 200
    assert admin_client.get(ADD_URL).status_code == 200
