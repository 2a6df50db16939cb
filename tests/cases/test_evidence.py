"""The evidence package: what it holds, its signed manifest, and the offline check refusing every tampering."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from backend.cases.models import CaseAccess
from backend.documents.rendering import example_context
from backend.documents.services import document_generate_now
from backend.signatures import keyring
from backend.signatures import services as signatures
from backend.workflow.models import HistoryEvent, ProcessInstance
from signing import keys
from signing.evidence import verify_package
from tests.conftest import user

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


@pytest.fixture
def signed_case(looped_case: ProcessInstance) -> ProcessInstance:
    document = document_generate_now(
        kind="transcript",
        language="kk",
        context=example_context(kind="transcript", language="kk"),
        instance=looped_case,
        key=f"evidence-{looped_case.pk}",
        allocate_number=True,
    )
    holder = user("teacher1")
    published = signatures.document_publish(
        document=document,
        holder=holder,
        holder_public_name=signatures.public_name(last_name=holder.last_name, first_name=holder.first_name),
    )
    signer = user("registrar_head1")
    key = keyring.signing_key_open(user=signer, passphrase="demo")
    signatures.document_sign(published=published, signer=signer, key=key, language="kk")
    looped_case.refresh_from_db()
    return looped_case


def download(number: str, username: str = "auditor1") -> bytes:
    api = APIClient()
    api.force_authenticate(user(username))
    response = api.get(f"/api/cases/{number}/evidence/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return response.content


def rewrite(package: bytes, name: str, change: object) -> bytes:
    """The same ZIP with one file's content changed by `change(bytes) -> bytes`."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            content = source.read(item)
            target.writestr(item, change(content) if item == name else content)  # type: ignore[operator]
    return out.getvalue()


def test_the_package_holds_the_version_the_history_and_the_signed_pdf(signed_case: ProcessInstance) -> None:
    package = download(signed_case.number)

    archive = zipfile.ZipFile(io.BytesIO(package))
    names = set(archive.namelist())
    assert {"manifest.txt", "manifest.txt.p7s", "process.bpmn", "history.json"} <= names
    pdfs = [n for n in names if n.startswith("documents/") and n.endswith(".pdf")]
    assert len(pdfs) == 1
    assert archive.read("process.bpmn").decode() == signed_case.definition.bpmn_xml
    history = json.loads(archive.read("history.json"))
    assert history["case"] == signed_case.number
    assert len(history["events"]) == signed_case.history_count == history["anchor"]["count"]
    manifest = archive.read("manifest.txt").decode().splitlines()
    assert len(manifest) == len(names) - 2
    verdict = verify_package(package, trust_roots=signatures.trust_roots())
    assert verdict.valid, verdict.problem
    assert CaseAccess.objects.filter(instance=signed_case, action="evidence").count() == 1


def test_the_command_line_checks_it_offline(signed_case: ProcessInstance, tmp_path: Path) -> None:
    package = tmp_path / "evidence.zip"
    package.write_bytes(download(signed_case.number))
    root = tmp_path / "root.pem"
    root.write_bytes(b"".join(keys.certificate_to_pem(c) for c in signatures.trust_roots()))
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(rewrite(package.read_bytes(), "process.bpmn", lambda b: b + b" "))

    good = subprocess.run(
        [sys.executable, "-m", "signing", "verify-evidence", str(package), "--trust", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    bad = subprocess.run(
        [sys.executable, "-m", "signing", "verify-evidence", str(tampered), "--trust", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert good.returncode == 0, good.stdout + good.stderr
    assert "Evidence package: VALID" in good.stdout
    assert "chain intact" in good.stdout
    assert bad.returncode == 1
    assert "process.bpmn: its SHA-256 does not match the manifest" in bad.stdout


def _flip_pdf_byte(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]


def test_one_byte_of_a_pdf_is_found(signed_case: ProcessInstance) -> None:
    package = download(signed_case.number)
    pdf = next(n for n in zipfile.ZipFile(io.BytesIO(package)).namelist() if n.startswith("documents/"))

    verdict = verify_package(rewrite(package, pdf, _flip_pdf_byte), trust_roots=signatures.trust_roots())

    assert not verdict.valid
    assert verdict.problem == f"{pdf}: its SHA-256 does not match the manifest"


def test_a_changed_manifest_line_breaks_its_signature(signed_case: ProcessInstance) -> None:
    package = download(signed_case.number)

    def change_line(manifest: bytes) -> bytes:
        lines = manifest.decode().splitlines(keepends=True)
        lines[0] = "0" * 64 + lines[0][64:]
        return "".join(lines).encode()

    verdict = verify_package(rewrite(package, "manifest.txt", change_line), trust_roots=signatures.trust_roots())

    assert not verdict.valid
    assert verdict.problem.startswith("manifest.txt: the signature does not verify")


def test_a_package_built_from_a_tampered_history_names_the_event(signed_case: ProcessInstance) -> None:
    # Someone edits an event in the database; the package made afterwards is signed, but the chain is not.
    HistoryEvent.objects.filter(instance=signed_case, seq=3).update(payload={"forged": True})

    verdict = verify_package(download(signed_case.number), trust_roots=signatures.trust_roots())

    assert not verdict.valid
    assert verdict.problem == "history.json: event 3 was changed (its content does not match its hash)"


def test_a_deleted_event_in_the_history_is_named(signed_case: ProcessInstance) -> None:
    HistoryEvent.objects.filter(instance=signed_case, seq=6).delete()

    verdict = verify_package(download(signed_case.number), trust_roots=signatures.trust_roots())

    assert not verdict.valid
    assert verdict.problem.startswith("history.json: event 6 is missing")


def test_another_root_is_not_trusted(signed_case: ProcessInstance) -> None:
    stranger = keys.generate_root_ca(common_name="Stranger CA", organisation="Stranger")

    verdict = verify_package(download(signed_case.number), trust_roots=[stranger.certificate])

    assert not verdict.valid
    assert verdict.problem.startswith("manifest.txt: the signature does not verify")


def test_a_set_of_cases_is_packed_by_a_job(signed_case: ProcessInstance) -> None:
    from django.test import Client

    from backend.cases.evidence import evidence_set_start
    from backend.cases.selectors import CaseFilters
    from backend.core.jobs import job_run

    job = evidence_set_start(user=user("auditor1"), filters=CaseFilters(number=signed_case.number))
    finished = job_run(job_id=job.pk)

    assert finished is not None
    assert (finished.status, finished.done, finished.failed) == ("done", 1, 0)
    item = finished.items.get()
    client = Client()
    client.force_login(user("auditor1"))
    response = client.get(item.result["url"])
    assert response.status_code == 200
    package = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert verify_package(package, trust_roots=signatures.trust_roots()).valid
    client.force_login(user("teacher2"))  # someone else cannot fetch it
    assert client.get(item.result["url"]).status_code == 404
