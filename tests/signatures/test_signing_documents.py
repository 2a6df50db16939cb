"""Signing issued documents and checking them: by our verifier, by tools that are not ours, by the QR page."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from backend.documents.models import GeneratedDocument
from backend.documents.rendering import example_context
from backend.documents.services import document_generate_now
from backend.signatures import keyring, services
from backend.signatures.models import PublishedDocument, Signature, SignerCertificate
from signing import keys
from signing.verify import verify_pdf
from tests.conftest import api_as, user

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


@pytest.fixture
def transcript_document(demo: None) -> GeneratedDocument:
    return document_generate_now(
        kind="transcript",
        language="kk",
        context=example_context(kind="transcript", language="kk"),
        key="signing-test",
        allocate_number=True,
    )


@pytest.fixture
def published(transcript_document: GeneratedDocument) -> PublishedDocument:
    holder = user("student1")
    return services.document_publish(
        document=transcript_document,
        holder=holder,
        holder_public_name=services.public_name(
            last_name=holder.last_name, first_name=holder.first_name, patronymic=holder.patronymic
        ),
    )


def key_of(username: str) -> keyring.SigningKey:
    """The demo signer's key, opened with their passphrase ("demo") as a signing request does."""
    return keyring.signing_key_open(user=user(username), passphrase="demo")


def signed_bytes(published: PublishedDocument) -> bytes:
    published.refresh_from_db()
    with published.signed_pdf.open("rb") as handle:
        return handle.read()


def test_two_signatures_as_incremental_updates_both_verify(published: PublishedDocument, tmp_path: Path) -> None:
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="kk"
    )
    services.document_sign(published=published, signer=user("school_dean1"), key=key_of("school_dean1"), language="kk")
    pdf = signed_bytes(published)

    verdict = verify_pdf(pdf=pdf, trust_roots=services.trust_roots())
    assert verdict.valid
    assert [s.signer.subject_common_name for s in verdict.signatures] == [
        user("registrar_head1").full_name,
        user("school_dean1").full_name,
    ]
    assert Signature.objects.filter(document=published.document).count() == 2
    assert published.signed_sha256 == verdict.sha256

    # Tools that are not ours agree: poppler's pdfsig, with the university root in its NSS database.
    root = tmp_path / "root.pem"
    root.write_text(services.pki_ensure()[0].certificate_pem)
    (tmp_path / "doc.pdf").write_bytes(pdf)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(root)], check=True)
    report = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(tmp_path / "doc.pdf")], capture_output=True, text=True
    ).stdout
    assert report.count("Signature Validation: Signature is Valid.") == 2
    assert report.count("Certificate Validation: Certificate is Trusted.") == 2

    # And our own command line.
    cli = subprocess.run(
        [".venv/bin/python", "-m", "signing", "verify", str(tmp_path / "doc.pdf"), "--trust", str(root)],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr


def test_private_keys_are_stored_only_encrypted(demo: None) -> None:
    for certificate in SignerCertificate.objects.exclude(encrypted_key_pem=""):
        assert certificate.encrypted_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    root, issuing = services.pki_ensure()
    assert "ENCRYPTED PRIVATE KEY" in root.encrypted_key_pem
    assert "ENCRYPTED PRIVATE KEY" in issuing.encrypted_key_pem


def test_the_qr_code_leads_to_a_page_that_says_valid(published: PublishedDocument, tmp_path: Path) -> None:
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="kk"
    )
    (tmp_path / "signed.pdf").write_bytes(signed_bytes(published))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "signed.pdf"), str(tmp_path / "page")], check=True)
    decoded = set()
    for page in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True)
        decoded |= {line.strip() for line in result.stdout.splitlines() if line.strip()}
    url = services.verification_url(published)
    assert decoded == {url}
    page = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="status"' in body
    assert "Valid" in body
    holder = user("student1")
    assert f"{holder.first_name[0]}.{holder.patronymic[0]}. {holder.last_name}" in body
    assert holder.first_name not in body  # initials and surname only
    assert published.document.number in body


def test_uploads_are_checked_byte_for_byte_and_by_signature(published: PublishedDocument) -> None:
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="ru"
    )
    pdf = signed_bytes(published)
    client = APIClient()
    url = f"/api/verify/{published.verification_id}/check/"
    genuine = client.post(url, {"file": _upload(pdf)}, format="multipart").json()
    assert genuine == {"genuine": True, "exact": True, "signatures_valid": True, "status": "valid", "problems": []}

    # One byte changed inside the signed range.
    offset = pdf.index(b"/Type /Page") + 2
    tampered = pdf[:offset] + bytes([pdf[offset] ^ 1]) + pdf[offset + 1 :]
    result = client.post(url, {"file": _upload(tampered)}, format="multipart").json()
    assert result["genuine"] is False
    assert result["exact"] is False
    assert result["signatures_valid"] is False

    page = Client().post(f"/v/{published.verification_id}", {"file": _upload(tampered)})
    assert "not the issued document" in page.content.decode()


def _upload(data: bytes) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("doc.pdf", data, content_type="application/pdf")


def test_annulled_and_revoked_show_everywhere(published: PublishedDocument) -> None:
    signature = services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="ru"
    )
    public = APIClient()
    assert public.get(f"/api/verify/{published.verification_id}/").json()["status"] == "valid"

    assert (
        api_as("teacher1")
        .post(f"/api/signatures/certificates/{signature.certificate_id}/revoke/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    revoked = api_as("registrar_head1").post(
        f"/api/signatures/certificates/{signature.certificate_id}/revoke/",
        {"reason": "Ключ скомпрометирован"},
        format="json",
    )
    assert revoked.status_code == 200
    assert public.get(f"/api/verify/{published.verification_id}/").json()["status"] == "revoked"
    assert "Revoked" in Client().get(f"/v/{published.verification_id}").content.decode()

    annulled = api_as("registrar_head1").post(
        f"/api/verify/{published.verification_id}/annul/", {"reason": "Выдан по ошибке"}, format="json"
    )
    assert annulled.json()["status"] == "annulled"
    assert "Annulled" in Client().get(f"/v/{published.verification_id}").content.decode()
    with pytest.raises(services.Conflict):
        services.document_sign(
            published=published, signer=user("school_dean1"), key=key_of("school_dean1"), language="ru"
        )


def test_unknown_or_malformed_ids_are_plain_404s(demo: None) -> None:
    for verification_id in ("AAAAAAAAAAAAAAAAAAAAAA", "not-an-id", "../../etc/passwd", "x" * 200):
        response = Client().get(f"/v/{verification_id}")
        assert response.status_code == 404
        assert "Traceback" not in response.content.decode()


@override_settings(QUJAT_VERIFY_RATE_PER_MINUTE=3)
def test_the_verification_page_is_rate_limited(published: PublishedDocument) -> None:
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="ru"
    )
    client = Client()
    statuses = [client.get(f"/v/{published.verification_id}").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_the_signed_pdf_downloads_only_for_its_holder_and_staff(published: PublishedDocument) -> None:
    services.document_sign(
        published=published, signer=user("registrar_head1"), key=key_of("registrar_head1"), language="ru"
    )
    url = f"/v/{published.verification_id}/pdf"
    assert Client().get(url).status_code == 404
    for username, status in (("student1", 200), ("student2", 404), ("registrar_staff1", 200), ("teacher1", 404)):
        client = Client()
        client.login(username=username, password="demo")
        assert client.get(url).status_code == status, username


def test_a_cms_made_with_openssl_over_the_document_verifies_and_over_another_does_not(
    published: PublishedDocument, tmp_path: Path, demo: None
) -> None:
    from backend.workflow.models import ProcessDefinition, ProcessInstance

    # The document belongs to a case the signer takes part in (here: they started it).
    signer = user("department_head2")
    instance = ProcessInstance.objects.create(
        definition=ProcessDefinition.objects.first(), process_key="x", started_by=signer
    )
    document = published.document
    document.instance = instance
    document.save(update_fields=["instance"])
    # The signer's own key (as if from the national CA): issued by our CA, written out for openssl.
    _root, issuing = services.pki_ensure()
    issuer = services._credential_of(issuing.certificate_pem, issuing.encrypted_key_pem)
    credential = keys.issue_signer_certificate(
        issuer=issuer, full_name=signer.full_name, position="head", organisation="Qujat", iin=signer.iin
    )
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "key.pem").write_bytes(
        credential.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "cert.pem").write_bytes(keys.certificate_to_pem(credential.certificate))
    (tmp_path / "chain.pem").write_bytes(keys.certificate_to_pem(issuer.certificate))
    with document.pdf.open("rb") as handle:
        (tmp_path / "doc.pdf").write_bytes(handle.read())
    (tmp_path / "other.pdf").write_bytes(b"%PDF-1.7 another document")

    def cms_over(name: str) -> str:
        der = subprocess.run(
            [
                "openssl",
                "cms",
                "-sign",
                "-binary",
                "-outform",
                "DER",
                "-signer",
                str(tmp_path / "cert.pem"),
                "-inkey",
                str(tmp_path / "key.pem"),
                "-certfile",
                str(tmp_path / "chain.pem"),
                "-in",
                str(tmp_path / name),
            ],
            capture_output=True,
            check=True,
        ).stdout
        return base64.b64encode(der).decode()

    client = api_as("department_head2")
    url = f"/api/documents/{document.pk}/cms-signature/"
    wrong = client.post(url, {"cms": cms_over("other.pdf")}, format="json")
    assert wrong.status_code == 400
    assert "content_mismatch" in json.dumps(wrong.json())
    right = client.post(url, {"cms": cms_over("doc.pdf")}, format="json")
    assert right.status_code == 201, right.json()
    assert Signature.objects.filter(document=document, kind="cms", signer=signer).count() == 1
    assert api_as("student1").post(url, {"cms": cms_over("doc.pdf")}, format="json").status_code == 404
