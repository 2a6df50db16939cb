"""Fixtures for the signing tests: a small university PKI, signed sample PDFs, a TSA, NSS trust."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from signing_testbed import (
    DEAN_IIN,
    DEAN_NAME,
    REGISTRAR_IIN,
    REGISTRAR_NAME,
    SITE,
    UNIVERSITY,
    VERIFICATION_ID,
    Pki,
    PkiFiles,
    TimestampAuthority,
    make_pdf,
    run_tool,
    serve_tsa,
)

from signing.keys import (
    Credential,
    KeyAlgorithm,
    certificate_to_pem,
    generate_issuing_ca,
    generate_root_ca,
    issue_signer_certificate,
)
from signing.pades import StampText, sign_pdf
from signing.qr import verification_url


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = generate_root_ca(common_name="Qujat Test Root CA", organisation=UNIVERSITY)
    issuing = generate_issuing_ca(issuer=root, common_name="Qujat Test Issuing CA", organisation=UNIVERSITY)
    registrar = issue_signer_certificate(
        issuer=issuing,
        full_name=REGISTRAR_NAME,
        position="Тіркеу кеңсесінің басшысы",
        organisation=UNIVERSITY,
        iin=REGISTRAR_IIN,
        email="registrar@example.kz",
    )
    dean = issue_signer_certificate(
        issuer=issuing,
        full_name=DEAN_NAME,
        position="Декан школы медицины",
        organisation=UNIVERSITY,
        iin=DEAN_IIN,
    )
    stranger_root = generate_root_ca(common_name="Somebody Else Root", organisation="Elsewhere")
    stranger = issue_signer_certificate(
        issuer=stranger_root,
        full_name="Чужой Человек",
        position="Никто",
        organisation="Elsewhere",
        iin="900101300789",
    )
    return Pki(
        root=root,
        issuing=issuing,
        registrar=registrar,
        dean=dean,
        stranger_root=stranger_root,
        stranger=stranger,
    )


@pytest.fixture(scope="session")
def rsa_signer(pki: Pki) -> Credential:
    # NCA RK issues RSA keys; 2048 bits keeps the session fast.
    return issue_signer_certificate(
        issuer=pki.issuing,
        full_name="Сейітов Арман",
        position="Инспектор",
        organisation=UNIVERSITY,
        iin="850303350111",
        key_algorithm=KeyAlgorithm.RSA_2048,
    )


@pytest.fixture(scope="session")
def transcript_pdf() -> bytes:
    return make_pdf(
        [
            ["TRANSCRIPT No. 2024-000123", "Student: Test Student", "Specialty: General Medicine"],
            ["Anatomy 5 credits A", "Physiology 4 credits B+", "GPA 3.67"],
        ]
    )


@pytest.fixture(scope="session")
def qr_url() -> str:
    return verification_url(site=SITE, verification_id=VERIFICATION_ID, sha256="ab" * 32)


@pytest.fixture(scope="session")
def registrar_stamp() -> StampText:
    return StampText.for_language(
        language="kk",
        signer_name=REGISTRAR_NAME,
        position="Тіркеу кеңсесінің басшысы",
        organisation=UNIVERSITY,
    )


@pytest.fixture(scope="session")
def dean_stamp() -> StampText:
    return StampText.for_language(language="ru", signer_name=DEAN_NAME, position="Декан школы медицины")


@pytest.fixture(scope="session")
def signed_once(pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str) -> bytes:
    return sign_pdf(
        pdf=transcript_pdf,
        credential=pki.registrar,
        stamp=registrar_stamp,
        field_name="RegistrarHead",
        reason="Transcript approved",
        location="Almaty",
        qr_url=qr_url,
    )


@pytest.fixture(scope="session")
def signed_twice(pki: Pki, signed_once: bytes, dean_stamp: StampText) -> bytes:
    return sign_pdf(pdf=signed_once, credential=pki.dean, stamp=dean_stamp, field_name="SchoolDean")


@pytest.fixture(scope="session")
def pki_files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    directory = tmp_path_factory.mktemp("pki")
    files = PkiFiles(
        directory=directory,
        root_pem=directory / "root.pem",
        chain_pem=directory / "chain.pem",
        registrar_cert_pem=directory / "registrar.pem",
        registrar_key_pem=directory / "registrar.key",
        stranger_root_pem=directory / "stranger-root.pem",
    )
    files.root_pem.write_bytes(certificate_to_pem(pki.root.certificate))
    files.chain_pem.write_bytes(b"".join(certificate_to_pem(c) for c in pki.registrar.chain))
    files.registrar_cert_pem.write_bytes(certificate_to_pem(pki.registrar.certificate))
    # Plaintext only for openssl in a temporary test directory; production keys stay encrypted.
    files.registrar_key_pem.write_bytes(
        pki.registrar.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files.stranger_root_pem.write_bytes(certificate_to_pem(pki.stranger_root.certificate))
    return files


@pytest.fixture(scope="session")
def nss_db(pki_files: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the university root, for poppler's pdfsig."""
    directory = tmp_path_factory.mktemp("nss")
    run_tool("certutil", "-N", "-d", f"sql:{directory}", "--empty-password")
    run_tool("certutil", "-A", "-d", f"sql:{directory}", "-n", "root", "-t", "CT,C,C", "-i", pki_files.root_pem)
    return f"sql:{directory}"


@pytest.fixture(scope="session")
def timestamp_authority(pki: Pki) -> Iterator[TimestampAuthority]:
    with serve_tsa(pki.root) as (url, _asked):
        yield TimestampAuthority(url=url, root=pki.root)
