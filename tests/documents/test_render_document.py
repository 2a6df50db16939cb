"""`manage.py render_document`: an administrator's preview, with the product's sandbox and checks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from docx import Document

from .conftest import EXAMPLES, INJECTION, PdfText, docx_with, pdfa_identification

ROOT = Path(settings.BASE_DIR)


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test"},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.converter
@pytest.mark.django_db
def test_a_kind_is_previewed_as_a_pdf(tmp_path: Path) -> None:
    out = tmp_path / "transcript.pdf"
    call_command(
        "render_document", "transcript", str(EXAMPLES / "transcript.kk.json"), "--lang", "kk", "--out", str(out)
    )
    pdf = out.read_bytes()
    assert pdfa_identification(pdf) == ("2", "B")
    assert "Әбдіғалиева Гүлнұр Қайратқызы" in PdfText(pdf)


def test_any_docx_is_previewed_as_a_docx_without_conversion(tmp_path: Path) -> None:
    # Given a template of the administrator's own and a context
    template = tmp_path / "draft.docx"
    template.write_bytes(docx_with("Құрметті {{ addressee.name }}, R&D {{ note }}"))
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"addressee": {"name": "Жақыпова Ә.С."}, "note": "<ескерту>"}), encoding="utf-8")

    # When it is previewed to a .docx, then the filled document is written
    out = tmp_path / "draft.filled.docx"
    manage("render_document", str(template), str(context), "--out", str(out)).check_returncode()
    text = "\n".join(paragraph.text for paragraph in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert "Құрметті Жақыпова Ә.С., R&D <ескерту>" in text


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_a_refused_template_exits_non_zero_and_writes_nothing(tmp_path: Path, suffix: str) -> None:
    # Given a template probing the sandbox
    template = tmp_path / "probe.docx"
    template.write_bytes(docx_with(INJECTION))
    context = tmp_path / "context.json"
    context.write_text("{}", encoding="utf-8")

    # When it is previewed, then the command fails naming the problem and writes no file
    out = tmp_path / f"evil{suffix}"
    result = manage("render_document", str(template), str(context), "--out", str(out))
    assert result.returncode != 0
    assert "Python internals" in result.stderr
    assert not out.exists()


@pytest.mark.django_db
def test_a_kind_in_a_language_it_does_not_exist_in_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "memo.pdf"
    with pytest.raises(CommandError, match="kk, ru"):
        call_command(
            "render_document",
            "login_request",
            str(EXAMPLES / "login_request.ru.json"),
            "--lang",
            "en",
            "--out",
            str(out),
        )
    assert not out.exists()
