"""The signing tests' test bed: the people and PKI they use, sample PDFs and external tool runners.

Fixtures live in conftest.py; this module has a unique name so test modules can import these
helpers without colliding with other directories' conftest modules.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.keys import Credential

REPO_ROOT = Path(__file__).resolve().parents[2]

REGISTRAR_NAME = "Байльдинова Клара Жақсылыққызы"
REGISTRAR_IIN = "880101400123"
DEAN_NAME = "Әбілқасымов Ұлан Нұрланұлы"
DEAN_IIN = "790515300456"
UNIVERSITY = "Қазақ ұлттық медицина университеті"
SITE = "https://qujat.example.kz"
VERIFICATION_ID = "Zq3Xw9dLkP0aB7cR5tYu1A"


@dataclass(frozen=True)
class Pki:
    """The test university's PKI: root, issuing CA and two signers, plus an unrelated one."""

    root: Credential
    issuing: Credential
    registrar: Credential
    dean: Credential
    stranger_root: Credential
    stranger: Credential


@dataclass(frozen=True)
class PkiFiles:
    """The PKI written out as files for external tools."""

    directory: Path
    root_pem: Path
    chain_pem: Path
    registrar_cert_pem: Path
    registrar_key_pem: Path
    stranger_root_pem: Path


@dataclass(frozen=True)
class TimestampAuthority:
    """A local RFC 3161 server and the root that certifies it."""

    url: str
    root: Credential


def make_pdf(pages: list[list[str]]) -> bytes:
    """A plain A4 PDF, one uncompressed content stream per page, Helvetica text."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = add(b"")
    kids = []
    for lines in pages:
        escaped = [line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") for line in lines]
        stream = b"\n".join([b"BT /F1 12 Tf 72 770 Td 16 TL", *(b"(" + e + b") '" for e in escaped), b"ET"])
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_id, font, content)
            )
        )
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document_id = b"<0123456789abcdef0123456789abcdef>"
    out += b"trailer\n<< /Size %d /Root %d 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        document_id,
        document_id,
        xref,
    )
    return bytes(out)


def draw_on_page(pdf: bytes, *, page: int = 0) -> bytes:
    """Append an incremental update that paints a red box over page content."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 72 700 300 60 re f Q")
    writer.add_stream_to_page(page, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def require_tool(name: str) -> str:
    """Path of an external tool, or skip the test that needs it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run_tool(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an external tool and capture its text output."""
    require_tool(str(args[0]))
    return subprocess.run([str(arg) for arg in args], capture_output=True, text=True, check=check, timeout=120)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m signing`` with the venv's interpreter, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "signing", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
