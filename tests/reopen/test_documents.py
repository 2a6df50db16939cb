"""The procedure's documents: the explanatory note in the teacher's language, later with every visa."""

import subprocess
from typing import Any

import pytest

from backend.academics.models import Journal
from backend.documents.models import GeneratedDocument
from tests.reopen.test_procedure import approve_visas, start

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


def pdf_text(document: GeneratedDocument) -> str:
    with document.pdf.open("rb") as handle:
        result = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=handle.read(), capture_output=True, check=True
        )
    return result.stdout.decode()


def test_the_note_is_generated_in_the_teachers_language_and_filed_with_the_visas(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    journal = Journal.objects.filter(
        teacher__username="teacher1", status="closed", period__academic_year="2026-2027"
    ).first()
    with django_capture_on_commit_callbacks(execute=True):
        instance = start(journal)
    note = GeneratedDocument.objects.get(instance_id=instance["id"], kind="explanatory_note")
    assert note.status == "ready", note.error
    assert note.language == "kk"  # teacher1 works in Kazakh
    text = pdf_text(note)
    assert "Түсініктеме" in text
    assert journal.discipline.name_kk in text
    assert "перепутаны местами" in text
    assert "&" in text
    assert journal.group.name in text
    assert "Әбдіғалиева Гүлнұр Қайратқызы" in text
    assert note.number
    assert note.number in text

    with django_capture_on_commit_callbacks(execute=True):
        approve_visas(instance["id"])
    filed = GeneratedDocument.objects.get(instance_id=instance["id"], key="note-with-visas")
    assert filed.status == "ready", filed.error
    sheet = pdf_text(filed)
    assert "Келісу және қол қою парағы" in sheet
    for approver in (
        "Байжанов А.Т.",
        "Тусупбекова С.К.",
        "Абдрешева А.Т.",
        "Байльдинова К.Ж.",
        "Шопаева Г.А.",
        "Измайлова С.Х.",
    ):
        assert approver in sheet
