"""Requesting, generating and storing documents: idempotent, numbered, recorded in the case history."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from backend.core.exceptions import ValidationFailed
from backend.documents.exceptions import ConverterUnavailable, TemplateRefused
from backend.documents.models import GeneratedDocument
from backend.documents.services import document_generate, document_generate_now, document_request
from backend.documents.tasks import generate_document
from backend.workflow.history import verify_chain
from backend.workflow.models import HistoryEvent, ProcessInstance

from .conftest import INJECTION, PdfText, docx_with, example, pdf_pages

pytestmark = pytest.mark.django_db


@pytest.mark.converter
def test_asking_twice_for_the_same_document_yields_one(django_capture_on_commit_callbacks: Any) -> None:
    # Given a memo asked for twice with the same key (a double click, a retried request)
    context = example("login_request", "ru")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = document_request(kind="login_request", language="ru", context=context, key="memo-7")
        second = document_request(kind="login_request", language="ru", context=context, key="memo-7")

    # Then there is one document, generated once, and it is ready
    assert first.pk == second.pk
    assert GeneratedDocument.objects.filter(kind="login_request", key="memo-7").count() == 1
    assert len([c for c in callbacks if "document_request" in c.__qualname__]) == 1  # enqueued once
    first.refresh_from_db()
    assert first.status == GeneratedDocument.Status.READY
    assert first.attempts == 1
    assert context["teachers"][0]["email"] in PdfText(first.pdf.read())


@pytest.mark.converter
def test_generating_a_ready_document_again_changes_nothing() -> None:
    # Given a ready document
    document = document_generate_now(
        kind="grade_sheet", language="kk", context=example("grade_sheet", "kk"), key="sheet-1"
    )
    before = (document.pdf.name, document.pdf_sha256, document.docx_sha256, document.generated_at)

    # When the worker step runs again (a Celery retry, a duplicate delivery)
    again = document_generate(document_id=document.pk)

    # Then the document and its files are untouched
    assert (again.pdf.name, again.pdf_sha256, again.docx_sha256, again.generated_at) == before


@pytest.mark.converter
def test_a_document_of_a_case_is_recorded_in_its_history_with_the_pdf_hash(
    process_instance: ProcessInstance, django_capture_on_commit_callbacks: Any
) -> None:
    # Given an explanatory note requested for a case, numbered on request
    context = example("explanatory_note", "ru")
    with django_capture_on_commit_callbacks(execute=True):
        document = document_request(
            kind="explanatory_note",
            language="ru",
            context=context,
            instance=process_instance,
            key="note",
            allocate_number=True,
        )

    # Then the case history holds one "document generated" event naming it and its PDF's hash
    document.refresh_from_db()
    events = HistoryEvent.objects.filter(instance=process_instance, kind=HistoryEvent.Kind.DOCUMENT_GENERATED)
    assert events.count() == 1
    payload = events.get().payload
    assert payload["pdf_sha256"] == document.pdf_sha256 == hashlib.sha256(document.pdf.read()).hexdigest()
    assert payload["kind"] == "explanatory_note"
    assert payload["title"] == document.title == "Объяснительная об ошибке заполнения электронного журнала"
    assert payload["number"] == document.number
    assert verify_chain(HistoryEvent.objects.filter(instance=process_instance).order_by("seq")) is None

    # and asking again for the same case and key neither makes a second document nor a second event
    again = document_request(
        kind="explanatory_note", language="ru", context=context, instance=process_instance, key="note"
    )
    document_generate(document_id=again.pk)
    assert again.pk == document.pk
    assert events.count() == 1


@pytest.mark.converter
def test_an_allocated_number_is_printed_stored_and_kept_in_the_context() -> None:
    # Given a proposal without a number of its own
    context = example("disciplinary_proposal", "ru") | {"number": ""}

    # When it is generated with a number allocated
    document = document_generate_now(
        kind="disciplinary_proposal", language="ru", context=context, key="proposal", allocate_number=True
    )

    # Then the number reads «ПР-<year>/NNNNNN», is printed on the document and kept with its context
    assert re.fullmatch(r"ПР-20\d\d/\d{6}", document.number)
    assert document.context["number"] == document.number
    assert f"Исх. № {document.number}" in PdfText(document.pdf.read())


@pytest.mark.converter
def test_the_approval_sheet_is_appended_as_the_last_page() -> None:
    # Given a note and the visas it collected
    context = example("explanatory_note", "ru")
    rows = example("approval_sheet", "ru")["rows"]
    plain = document_generate_now(kind="explanatory_note", language="ru", context=context, key="plain")

    # When it is generated with its approval sheet
    signed = document_generate_now(
        kind="explanatory_note", language="ru", context=context, key="signed", approval_sheet=rows
    )

    # Then one PDF holds the note and, on a page of its own at the end, the sheet with every visa
    pdf = signed.pdf.read()
    pages = pdf_pages(pdf)
    assert pages == pdf_pages(plain.pdf.read()) + 1
    last_page = PdfText(pdf, page=pages)
    assert "Лист согласования и подписания" in last_page
    assert "Объяснительная об ошибке заполнения электронного журнала" in last_page
    assert all(row["name"] in last_page for row in rows)
    assert "Лист согласования" not in PdfText(pdf, page=pages - 1)


@pytest.mark.converter
def test_a_template_that_reaches_into_python_fails_its_document_without_retries(
    settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given the shipped memo template was edited on disk to reach into Python
    shipped = settings.DOCUMENT_TEMPLATES_DIR
    settings.DOCUMENT_TEMPLATES_DIR = tmp_path
    (tmp_path / "login_request.ru.docx").write_bytes(docx_with("Служебная записка", INJECTION))

    # When the memo is requested and the worker runs
    with pytest.raises(TemplateRefused), django_capture_on_commit_callbacks(execute=True):
        document_request(kind="login_request", language="ru", context=example("login_request", "ru"), key="evil")

    # Then the document is failed with a message naming the problem, and has no files
    document = GeneratedDocument.objects.get(key="evil")
    assert document.status == GeneratedDocument.Status.FAILED
    assert "Python internals" in document.error
    assert not document.pdf
    assert not document.docx
    # and Celery does not retry a template error
    assert TemplateRefused not in generate_document.autoretry_for

    # When the template is repaired and the memo asked for again, then the same document is generated
    settings.DOCUMENT_TEMPLATES_DIR = shipped
    with django_capture_on_commit_callbacks(execute=True):
        again = document_request(
            kind="login_request", language="ru", context=example("login_request", "ru"), key="evil"
        )
    again.refresh_from_db()
    assert again.pk == document.pk
    assert again.status == GeneratedDocument.Status.READY
    assert again.error == ""


def test_a_template_that_reaches_into_python_leaves_no_document_when_generated_at_once(
    settings: Any, tmp_path: Any
) -> None:
    # Given the shipped transcript template was replaced by one probing the sandbox
    settings.DOCUMENT_TEMPLATES_DIR = tmp_path
    (tmp_path / "transcript.en.docx").write_bytes(docx_with(INJECTION))

    # When a transcript is generated synchronously, then it is refused and nothing remains
    with pytest.raises(TemplateRefused, match="Python internals"):
        document_generate_now(
            kind="transcript", language="en", context=example("transcript", "en"), key="t", allocate_number=True
        )
    assert not GeneratedDocument.objects.filter(key="t").exists()


@pytest.mark.converter
def test_an_unreachable_converter_fails_the_document_and_a_later_retry_succeeds(settings: Any) -> None:
    # Given the converter is configured on a machine that does not answer
    document = document_request(kind="calendar_plan", language="kk", context=example("calendar_plan", "kk"), key="p")
    settings.QUJAT_CONVERTER_HOST = "127.0.0.2"
    settings.QUJAT_CONVERTER_CONNECT_WAIT = 1

    # When the worker tries, then the document is failed with a message a person can act on
    with pytest.raises(ConverterUnavailable):
        document_generate(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.FAILED
    assert "is not running" in document.error
    # and Celery retries this kind of failure
    assert ConverterUnavailable in generate_document.autoretry_for

    # When the converter is back and the task is retried, then the document is ready
    settings.QUJAT_CONVERTER_HOST = "127.0.0.1"
    document = document_generate(document_id=document.pk)
    assert document.status == GeneratedDocument.Status.READY
    assert document.error == ""


def test_the_generation_task_takes_an_id_and_has_explicit_limits() -> None:
    assert generate_document.soft_time_limit < generate_document.time_limit
    assert generate_document.acks_late is True
    assert generate_document.name == "backend.documents.tasks.generate_document"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "diploma"}, "kind"),
        ({"language": "en"}, "language"),  # the memo exists in Kazakh and Russian only
        ({"key": ""}, "key"),
        ({"context": {"date": object()}}, "context"),
        ({"approval_sheet": ["Ким С.В."]}, "approval_sheet"),
    ],
)
def test_a_request_the_templates_cannot_serve_is_refused(changes: dict[str, Any], field: str) -> None:
    request: dict[str, Any] = {"kind": "login_request", "language": "ru", "context": {}, "key": "k"} | changes
    with pytest.raises(ValidationFailed) as refused:
        document_request(**request)
    assert field in refused.value.fields
    assert not GeneratedDocument.objects.exists()
