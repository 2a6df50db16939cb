"""Fixtures for the inbox tests: cases of the engine's test process at chosen steps, documents, files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from backend.workflow import services
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import user
from tests.workflow.conftest import diagram_variant

START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _forget_kept_processes() -> Iterator[None]:
    """Tests that run the engine's on-commit callbacks also let it keep processes in memory by (id, revision);
    the test's rollback then frees those ids for the next test, which must not be handed a stale process."""
    yield
    from backend.workflow import services as engine_services

    engine_services._CACHE.items.clear()


def start_case(username: str = "teacher1", *, days: int = 1, title: str = "Journal", **start: Any) -> ProcessInstance:
    """A case of the engine's test process whose request is written: the review waits for the head."""
    instance = services.instance_start(process_key="qujat_engine_test", user=user(username), data={**START, **start})
    write = open_task(instance, "write")
    services.task_complete(task_id=write.pk, user=user(username), data={"title": title, "days": days})
    return instance


def open_task(instance: ProcessInstance, spec_id: str) -> HumanTask:
    return HumanTask.objects.get(instance=instance, spec_id=spec_id, status=HumanTask.Status.OPEN)


def approve_review(instance: ProcessInstance, head: str = "department_head1") -> None:
    services.task_complete(task_id=open_task(instance, "review").pk, user=user(head), data={"decision": "approve"})


@pytest.fixture
def review_case(engine_test_process: ProcessDefinition) -> ProcessInstance:
    return start_case()


@pytest.fixture
def bulk_process(engine_test_process: ProcessDefinition, tmp_path: Path) -> ProcessDefinition:
    """The engine's test process with its head's review marked as routine (bulk="true")."""
    from backend.workflow.deployment import deploy_file

    form = '<spiffworkflow:property name="form" value="forms/review.json" />'
    path = diagram_variant(tmp_path, "bulk.bpmn", form, form + '\n<spiffworkflow:property name="bulk" value="true" />')
    deploy_file(path)
    return ProcessDefinition.objects.filter(key="qujat_engine_test").order_by("-version").first()  # type: ignore[return-value]


def pdf_with_text(*lines: str) -> bytes:
    """A one-page PDF whose text layer holds `lines` (ASCII, Helvetica): what the viewer must show."""
    stream = (
        b"BT /F1 16 Tf 72 760 Td 20 TL "
        + b" ".join(
            b"(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1") + b") Tj T*"
            for line in lines
        )
        + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def attach_document(instance: ProcessInstance, *lines: str, title: str = "Explanatory note") -> Any:
    """A ready generated document of the case, as backend.documents stores one after conversion."""
    from backend.documents.models import GeneratedDocument

    pdf = pdf_with_text(*lines)
    docx = b"PK\x03\x04 not inspected here"
    document = GeneratedDocument.objects.create(
        kind="explanatory_note",
        language="ru",
        title=title,
        instance=instance,
        key=f"test-{instance.pk}-{title}",
    )
    # Files are stored under the creation date, so they follow the row's first save.
    document.pdf.save(f"note.{document.pk}.pdf", ContentFile(pdf), save=False)
    document.docx.save(f"note.{document.pk}.docx", ContentFile(docx), save=False)
    document.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    document.docx_sha256 = hashlib.sha256(docx).hexdigest()
    document.status = GeneratedDocument.Status.READY
    document.save()
    return document


@pytest.fixture
def logged_in() -> Callable[[str], Any]:
    """A page client logged in as someone."""
    from django.test import Client

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(user(username))
        return client

    return client_for
