"""Every shipped template, in each of its languages, becomes a PDF/A-2b that prints its example data.

The .docx files are the only source of the forms' wording (document_templates/README.md): these tests are
what checks an edit made in Word or LibreOffice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from backend.documents.kinds import KINDS
from backend.documents.services import document_generate_now

from .conftest import KAZAKH_LETTERS, LEFTOVER_TAGS, PdfText, example, pdf_pages, pdfa_identification

pytestmark = [pytest.mark.converter, pytest.mark.django_db]

TEMPLATES = [(kind.code, language) for kind in KINDS.values() for language in kind.languages]

# Context keys a template deliberately does not print (see document_templates/README.md).
NOT_PRINTED: dict[str, set[str]] = {
    "calendar_plan": {"number", "date", "ais_name"},
    "explanatory_note.kk": {"dean_curation", "school_dean"},
    "transcript": {"ais_name", "holder.last_name", "holder.first_name", "holder.patronymic"},
    "approval_sheet": {"university", "ais_name"},
}
# Page counts with the example contexts; every other template fits on one or two pages.
PAGES = {"transcript": (2, 3), "approval_sheet": (1, 1)}
# Lines a template prints only when a value asks for them: (kind, the value that turns the line off, the line).
OPTIONAL_LINES = {
    ("explanatory_note", "kk"): ({"late": False}, "Мерзімі бұзылып"),
    ("explanatory_note", "ru"): ({"late": False}, "нарушением срока"),
    ("transcript", "kk"): ({"verification_url": ""}, "Түпнұсқалығын тексеру"),
    ("transcript", "ru"): ({"verification_url": ""}, "Проверить подлинность"),
    ("transcript", "en"): ({"verification_url": ""}, "Verify at"),
}
TEMPLATES_DIR = Path(settings.DOCUMENT_TEMPLATES_DIR)


def printed_values(kind: str, language: str, value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from printed_values(kind, language, item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from printed_values(kind, language, item, path)
    elif isinstance(value, str) and value.strip():
        skipped = NOT_PRINTED.get(kind, set()) | NOT_PRINTED.get(f"{kind}.{language}", set())
        if not any(path == key or path.startswith(key + ".") for key in skipped):
            yield path, value


@pytest.mark.parametrize(("kind", "language"), TEMPLATES, ids=[f"{k}.{lang}" for k, lang in TEMPLATES])
def test_every_template_prints_its_example_in_a_pdfa(kind: str, language: str) -> None:
    # Given the template's realistic example (Kazakh letters, `&`, `<`, quotes, long tables)
    context = example(kind, language)

    # When the document is generated
    document = document_generate_now(kind=kind, language=language, context=context, key=f"example-{kind}")

    # Then it is ready, with both files stored under their hashes
    assert document.status == document.Status.READY
    pdf = document.pdf.read()
    assert hashlib.sha256(pdf).hexdigest() == document.pdf_sha256
    assert hashlib.sha256(document.docx.read()).hexdigest() == document.docx_sha256
    # and the PDF, a PDF/A-2b, shows every value and no template tag
    assert pdfa_identification(pdf) == ("2", "B")
    text = PdfText(pdf)
    missing = [path for path, value in printed_values(kind, language, context) if value not in text]
    assert missing == []
    assert [tag for tag in LEFTOVER_TAGS if tag in text.layout] == []
    # with its optional lines (the example turns them on)
    if (kind, language) in OPTIONAL_LINES:
        assert OPTIONAL_LINES[(kind, language)][1] in text.layout
    # on the number of pages the form is meant to have
    low, high = PAGES.get(kind, (1, 2))
    assert low <= pdf_pages(pdf) <= high


def test_every_template_file_is_a_registered_kind_with_an_example() -> None:
    # Given the files in document_templates/ and its examples/
    files = {path.stem for path in TEMPLATES_DIR.glob("*.docx")}
    examples = {path.stem for path in (TEMPLATES_DIR / "examples").glob("*.json")}

    # Then each registered kind and language has exactly one template and one example, and nothing else is there
    registered = {f"{kind}.{language}" for kind, language in TEMPLATES}
    assert files == registered
    assert examples == registered


@pytest.mark.parametrize(("kind", "language"), TEMPLATES, ids=[f"{k}.{lang}" for k, lang in TEMPLATES])
def test_every_tag_of_a_template_has_a_value_in_its_example(kind: str, language: str) -> None:
    # Given the template and its example, rendered strictly (a misspelt or unknown tag fails instead of
    # printing a blank, as it does in the product)
    template = DocxTemplate(TEMPLATES_DIR / f"{kind}.{language}.docx")
    strict = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)

    # When it is rendered, then nothing is missing
    template.render(example(kind, language), jinja_env=strict)


@pytest.mark.parametrize(
    ("kind", "language"), sorted(OPTIONAL_LINES), ids=[f"{k}.{lang}" for k, lang in sorted(OPTIONAL_LINES)]
)
def test_an_optional_line_is_printed_only_when_asked_for(kind: str, language: str) -> None:
    # Given the example with its optional line turned off
    off, line = OPTIONAL_LINES[(kind, language)]

    # When the document is generated without it
    context = {**example(kind, language), **off}
    document = document_generate_now(kind=kind, language=language, context=context, key=f"off-{kind}")

    # Then the line is gone and the rest is there
    text = PdfText(document.pdf.read())
    assert line not in text.layout
    assert context["number"] in text


def test_the_transcript_lists_all_sixty_disciplines_over_two_pages() -> None:
    # Given the 60-row example transcript
    context = example("transcript", "ru")
    codes = [row["code"] for period in context["periods"] for row in period["rows"]]
    assert len(codes) == 60

    # When it is generated
    document = document_generate_now(kind="transcript", language="ru", context=context, key="sixty")

    # Then every discipline code, both subtotals and the GPA are in the PDF
    pdf = document.pdf.read()
    text = PdfText(pdf)
    assert [code for code in codes if code not in text] == []
    assert context["total_credits"] in text
    assert context["gpa"] in text
    assert pdf_pages(pdf) >= 2


def test_kazakh_letters_and_special_characters_survive_into_the_pdf() -> None:
    # Given data holding every Kazakh-specific letter, `&`, `<`, quotes and something that looks like a tag
    context = example("explanatory_note", "kk")
    context["reason"] = f'{KAZAKH_LETTERS} R&D <база> "тырнақша" «елшi» {{{{ not_a_tag }}}}'

    # When the note is generated
    document = document_generate_now(kind="explanatory_note", language="kk", context=context, key="letters")

    # Then the PDF text holds them exactly as given: data is never taken for a template
    text = PdfText(document.pdf.read()).layout
    assert all(letter in text for letter in KAZAKH_LETTERS)
    assert "R&D <база>" in text
    assert '"тырнақша"' in text
    assert "{{ not_a_tag }}" in text


def test_a_missing_key_prints_as_a_blank_not_an_error() -> None:
    # Given an explanatory note without a department head at all
    context = example("explanatory_note", "ru")
    del context["department_head"]

    # When it is generated
    document = document_generate_now(kind="explanatory_note", language="ru", context=context, key="blank")

    # Then the rest of the document is there
    assert context["teacher"]["name"] in PdfText(document.pdf.read())
