"""Fixtures for the documents tests: media in a temporary folder, PDF inspection, on-the-fly templates."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from docx import Document
from lxml import etree
from pypdf import PdfReader

from backend.workflow.models import ProcessDefinition, ProcessInstance

EXAMPLES = Path(settings.DOCUMENT_TEMPLATES_DIR) / "examples"
INJECTION = "{{ cycler.__init__.__globals__ }}"
LEFTOVER_TAGS = ("{{", "}}", "{%", "%}")
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def example(kind: str, language: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{kind}.{language}.json").read_text(encoding="utf-8"))


def docx_with(*paragraphs: str | list[str]) -> bytes:
    """A .docx built on the fly; a list is one paragraph made of several runs (as Word splits text)."""
    document = Document()
    for paragraph in paragraphs:
        runs = [paragraph] if isinstance(paragraph, str) else paragraph
        target = document.add_paragraph()
        for run in runs:
            target.add_run(run)
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def pdf_text(pdf: bytes, mode: str = "-layout", page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run(["pdftotext", mode, *pages, "-", "-"], input=pdf, check=True, capture_output=True)
    return result.stdout.decode("utf-8")


class PdfText:
    """The text of a PDF as pdftotext sees it, for asking what is printed."""

    def __init__(self, pdf: bytes, page: int | None = None) -> None:
        self.layout = pdf_text(pdf, page=page)
        self._words = " ".join(self.layout.split())
        # A value wrapped inside a table cell is interleaved with its neighbours in the layout text; the
        # raw (content-stream) order keeps a cell's lines together.
        self._letters = "".join(pdf_text(pdf, "-raw", page=page).split())

    def __contains__(self, value: str) -> bool:
        return " ".join(value.split()) in self._words or "".join(value.split()) in self._letters


def pdf_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def pdfa_identification(pdf: bytes) -> tuple[str, str]:
    """(part, conformance) from the PDF's XMP metadata, e.g. ("2", "B") for PDF/A-2b."""
    metadata = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data()
    root = etree.fromstring(metadata)
    ns = "http://www.aiim.org/pdfa/ns/id/"
    values = {}
    for name in ("part", "conformance"):
        element = root.find(f".//{{{ns}}}{name}")
        if element is not None:
            values[name] = element.text or ""
        else:  # XMP also allows the attribute form
            found = root.xpath(f"//@*[local-name()='{name}' and namespace-uri()='{ns}']")
            values[name] = str(found[0]) if found else ""
    return values["part"], values["conformance"]


def process_group_members(pgid: int) -> list[tuple[int, str, str]]:
    """(pid, command name, state letter) of every process in a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            members.append((int(entry.name), name, fields[0]))
    return members


def alive_in_group(pgid: int) -> list[tuple[int, str, str]]:
    return [member for member in process_group_members(pgid) if member[2] not in ("Z", "X")]


def office_pids(worker_pid: int) -> list[int]:
    """The soffice.bin of one converter worker (its process group)."""
    return [pid for pid, name, _state in process_group_members(worker_pid) if name == "soffice.bin"]


@pytest.fixture
def process_instance(demo: None) -> ProcessInstance:
    """A bare process instance; the engine is not involved in documents."""
    definition = ProcessDefinition.objects.create(
        key="documents_test",
        version=1,
        title={"en": "Documents test"},
        source_file="documents_test.bpmn",
        content_hash="0" * 64,
        bpmn_xml="<definitions/>",
        spec={},
    )
    return ProcessInstance.objects.create(definition=definition, process_key="documents_test")
