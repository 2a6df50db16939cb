"""The signing tests' test bed: the people and PKI they use, sample PDFs and external tool runners.

Fixtures live in conftest.py; this module has a unique name so test modules can import these
helpers without colliding with other directories' conftest modules.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from signing.keys import Credential
from signing.trust import to_asn1

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


def _tsa_credential(issuer: Credential) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Qujat Test TSA")]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(issuer.private_key, hashes.SHA256())
    )
    return certificate, key


@contextmanager
def serve_tsa(issuer: Credential) -> Iterator[tuple[str, list[tsp.TimeStampReq]]]:
    """An RFC 3161 timestamp server on the loopback, its certificate issued by ``issuer``: (URL, requests seen)."""
    certificate, key = _tsa_credential(issuer)
    stamper = DummyTimeStamper(
        tsa_cert=to_asn1(certificate),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    asked: list[tsp.TimeStampReq] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            asked.append(request)
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", asked
    finally:
        server.shutdown()
        server.server_close()
