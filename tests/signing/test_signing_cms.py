"""Detached CMS: what OpenSSL (standing in for NCALayer) produces verifies, and what should not, does not."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from signing_testbed import REGISTRAR_IIN, Pki, PkiFiles, run_tool

from signing.cms import sign_detached, verify_detached
from signing.keys import Credential, certificate_to_pem, issue_signer_certificate, load_trust_roots

DOCUMENT = "Түсініктеме хат / Объяснительная записка №17\nPlease reopen the journal.\n".encode()


def _openssl_cms(files: PkiFiles, tmp_path: Path, content: bytes, *extra: str) -> bytes:
    document = tmp_path / "signed-content.bin"
    document.write_bytes(content)
    out = tmp_path / "signature.cms"
    run_tool(
        "openssl",
        "cms",
        "-sign",
        "-binary",
        "-outform",
        extra[0] if extra else "DER",
        "-signer",
        files.registrar_cert_pem,
        "-inkey",
        files.registrar_key_pem,
        "-certfile",
        files.chain_pem,
        "-in",
        document,
        "-out",
        out,
        *extra[1:],
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def openssl_cms(pki_files: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _openssl_cms(pki_files, tmp_path_factory.mktemp("cms"), DOCUMENT)


class TestOpensslSignature:
    def test_verifies_against_the_document_and_our_root(self, pki: Pki, openssl_cms: bytes) -> None:
        verdict = verify_detached(cms=openssl_cms, trust_roots=[pki.root.certificate], content=DOCUMENT)
        assert verdict.valid, verdict.problems
        assert verdict.intact
        assert verdict.trusted
        assert verdict.signed_content == "document"
        assert verdict.signer is not None
        assert verdict.signer.iin == REGISTRAR_IIN
        assert verdict.signing_time is not None
        assert abs(verdict.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
        assert verdict.problems == ()

    def test_does_not_verify_against_another_document(self, pki: Pki, openssl_cms: bytes) -> None:
        verdict = verify_detached(
            cms=openssl_cms, trust_roots=[pki.root.certificate], content=DOCUMENT + b"one more line\n"
        )
        assert not verdict.valid
        assert not verdict.intact
        assert verdict.problem_codes == ("content_mismatch",)

    def test_base64_as_ncalayer_returns_it_verifies(self, pki: Pki, openssl_cms: bytes) -> None:
        encoded = base64.b64encode(openssl_cms).decode("ascii")
        wrapped = "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))
        for cms in (encoded, "  " + wrapped + "\r\n", wrapped.encode("ascii")):
            assert verify_detached(cms=cms, trust_roots=[pki.root.certificate], content=DOCUMENT).valid

    def test_pem_armoured_output_verifies(self, pki: Pki, pki_files: PkiFiles, tmp_path: Path) -> None:
        pem = _openssl_cms(pki_files, tmp_path, DOCUMENT, "PEM")
        assert pem.startswith(b"-----BEGIN CMS-----")
        assert verify_detached(cms=pem.decode("ascii"), trust_roots=[pki.root.certificate], content=DOCUMENT).valid

    def test_an_attached_cms_verifies_against_the_document(self, pki: Pki, pki_files: PkiFiles, tmp_path: Path) -> None:
        attached = _openssl_cms(pki_files, tmp_path, DOCUMENT, "DER", "-nodetach")
        assert verify_detached(cms=attached, trust_roots=[pki.root.certificate], content=DOCUMENT).valid
        other = verify_detached(cms=attached, trust_roots=[pki.root.certificate], content=b"other")
        assert other.problem_codes == ("content_mismatch",)

    def test_the_expected_iin_must_match(self, pki: Pki, openssl_cms: bytes) -> None:
        roots = [pki.root.certificate]
        assert verify_detached(cms=openssl_cms, trust_roots=roots, content=DOCUMENT, expected_iin=REGISTRAR_IIN).valid
        verdict = verify_detached(cms=openssl_cms, trust_roots=roots, content=DOCUMENT, expected_iin="000000000000")
        assert not verdict.valid
        assert verdict.problem_codes == ("iin_mismatch",)

    def test_a_root_we_do_not_trust_makes_it_untrusted(self, pki: Pki, openssl_cms: bytes) -> None:
        verdict = verify_detached(cms=openssl_cms, trust_roots=[pki.stranger_root.certificate], content=DOCUMENT)
        assert verdict.intact
        assert not verdict.trusted
        assert not verdict.valid
        assert verdict.problem_codes == ("untrusted",)

    def test_the_digest_alone_is_enough_to_check_a_cms_over_the_document(self, pki: Pki, openssl_cms: bytes) -> None:
        digest = hashlib.sha256(DOCUMENT).digest()
        verdict = verify_detached(cms=openssl_cms, trust_roots=[pki.root.certificate], content_sha256=digest)
        assert verdict.valid
        assert verdict.signed_content == "document"


class TestSigningTheHash:
    @pytest.mark.parametrize(
        ("signed", "label"),
        [
            (hashlib.sha256(DOCUMENT).digest(), "sha256"),
            (hashlib.sha256(DOCUMENT).hexdigest().encode(), "sha256_hex"),
            (hashlib.sha256(DOCUMENT).hexdigest().upper().encode(), "sha256_hex"),
        ],
        ids=["raw", "hex", "HEX"],
    )
    def test_a_cms_over_the_documents_sha256_verifies(
        self, pki: Pki, pki_files: PkiFiles, tmp_path: Path, signed: bytes, label: str
    ) -> None:
        cms = _openssl_cms(pki_files, tmp_path, signed)
        roots = [pki.root.certificate]
        verdict = verify_detached(cms=cms, trust_roots=roots, content=DOCUMENT)
        assert verdict.valid, verdict.problems
        assert verdict.signed_content == label
        by_digest = verify_detached(cms=cms, trust_roots=roots, content_sha256=hashlib.sha256(DOCUMENT).digest())
        assert by_digest.valid

    def test_hash_signing_can_be_refused(self, pki: Pki, pki_files: PkiFiles, tmp_path: Path) -> None:
        cms = _openssl_cms(pki_files, tmp_path, hashlib.sha256(DOCUMENT).digest())
        verdict = verify_detached(
            cms=cms, trust_roots=[pki.root.certificate], content=DOCUMENT, accept_hash_signing=False
        )
        assert verdict.problem_codes == ("content_mismatch",)


class TestOurOwnCms:
    def test_sign_detached_round_trips_and_openssl_agrees(self, pki: Pki, pki_files: PkiFiles, tmp_path: Path) -> None:
        cms = sign_detached(data=DOCUMENT, credential=pki.registrar)
        verdict = verify_detached(cms=cms, trust_roots=[pki.root.certificate], content=DOCUMENT)
        assert verdict.valid
        assert verdict.signing_time is not None
        (tmp_path / "sig.cms").write_bytes(cms)
        (tmp_path / "doc").write_bytes(DOCUMENT)
        result = run_tool(
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            tmp_path / "sig.cms",
            "-content",
            tmp_path / "doc",
            "-CAfile",
            pki_files.root_pem,
            "-purpose",
            "any",
            "-out",
            tmp_path / "verified",
        )
        assert "Verification successful" in result.stderr
        assert (tmp_path / "verified").read_bytes() == DOCUMENT

    def test_the_cms_carries_the_chain_so_only_the_root_is_needed(self, pki: Pki) -> None:
        cms = sign_detached(data=DOCUMENT, credential=pki.registrar)
        certificates = pkcs7.load_der_pkcs7_certificates(cms)
        assert pki.registrar.certificate in certificates
        assert pki.issuing.certificate in certificates

    def test_a_certificate_that_may_not_sign_is_reported(self, pki: Pki) -> None:
        credential = _encryption_only_credential(pki)
        verdict = verify_detached(
            cms=sign_detached(data=DOCUMENT, credential=credential),
            trust_roots=[pki.root.certificate],
            content=DOCUMENT,
        )
        assert not verdict.valid
        assert verdict.trusted
        assert verdict.problem_codes == ("bad_key_usage",)

    def test_a_certificate_expired_before_signing_is_reported(self, pki: Pki) -> None:
        expired = issue_signer_certificate(
            issuer=pki.issuing,
            full_name="Old Key",
            position="Former dean",
            organisation="U",
            iin="700101300123",
            valid_days=365,
            not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=400),
        )
        verdict = verify_detached(
            cms=sign_detached(data=DOCUMENT, credential=expired),
            trust_roots=[pki.root.certificate],
            content=DOCUMENT,
        )
        assert not verdict.valid
        assert "expired_at_signing" in verdict.problem_codes

    def test_validated_after_the_certificate_expires_the_chain_is_no_longer_trusted(self, pki: Pki) -> None:
        cms = sign_detached(data=DOCUMENT, credential=pki.registrar)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=4000)
        verdict = verify_detached(cms=cms, trust_roots=[pki.root.certificate], content=DOCUMENT, validation_time=later)
        assert verdict.intact
        assert verdict.problem_codes == ("untrusted",)
        assert "expired" in verdict.problems[0]

    @pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x01", "not base64 at all!", b"\xff\xfe"])
    def test_garbage_is_reported_as_malformed(self, pki: Pki, garbage: bytes | str) -> None:
        verdict = verify_detached(cms=garbage, trust_roots=[pki.root.certificate], content=DOCUMENT)
        assert not verdict.valid
        assert verdict.problem_codes == ("malformed",)

    def test_a_gost_signature_is_reported_as_unsupported(self, pki: Pki) -> None:
        # NCA RK's GOST keys produce CMS with Kazakh GOST algorithm identifiers.
        content_info = asn1_cms.ContentInfo.load(sign_detached(data=DOCUMENT, credential=pki.registrar))
        signer_info = content_info["content"]["signer_infos"][0]
        signer_info["signature_algorithm"] = asn1_cms.SignedDigestAlgorithm({"algorithm": "1.2.398.3.10.1.1.1.2"})
        verdict = verify_detached(
            cms=content_info.dump(force=True), trust_roots=[pki.root.certificate], content=DOCUMENT
        )
        assert verdict.problem_codes == ("unsupported_algorithm",)

    def test_content_or_digest_is_required(self, pki: Pki) -> None:
        cms = sign_detached(data=DOCUMENT, credential=pki.registrar)
        with pytest.raises(ValueError, match="content"):
            verify_detached(cms=cms, trust_roots=[pki.root.certificate])


def _encryption_only_credential(pki: Pki) -> Credential:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Key Agreement Only"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN880101400123"),
                ]
            )
        )
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(pki.issuing.private_key, hashes.SHA256())
    )
    return Credential(certificate=certificate, private_key=key, chain=(pki.issuing.certificate,))


def test_a_root_file_loaded_from_disk_is_all_the_verifier_needs(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_bytes(certificate_to_pem(pki.root.certificate))
    roots = load_trust_roots((tmp_path / "root.pem").read_bytes())
    cms = sign_detached(data=DOCUMENT, credential=pki.dean)
    assert verify_detached(cms=cms, trust_roots=roots, content=DOCUMENT).valid
