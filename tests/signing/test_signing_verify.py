"""Verifying signed PDFs: tampering, later drawing on a page, trust, revocation and expiry."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from signing_testbed import REGISTRAR_IIN, Pki, draw_on_page, make_pdf, run_cli, run_tool

from signing.cms import sign_detached, verify_detached
from signing.keys import Credential, certificate_to_pem, issue_signer_certificate
from signing.pades import StampText, sign_pdf
from signing.verify import verify_pdf


def _flip_byte_in_signed_text(pdf: bytes) -> bytes:
    position = pdf.index(b"TRANSCRIPT No.")
    tampered = bytearray(pdf)
    tampered[position] = ord("X")
    return bytes(tampered)


def _revocation_list(pki: Pki, revoked: x509.Certificate) -> x509.CertificateRevocationList:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing.certificate.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.serial_number)
            .revocation_date(now - dt.timedelta(minutes=30))
            .build()
        )
        .sign(pki.issuing.private_key, hashes.SHA256())
    )


def _signer_with_crl_url(pki: Pki) -> Credential:
    return issue_signer_certificate(
        issuer=pki.issuing,
        full_name="Revocable Signer",
        position="Inspector",
        organisation="U",
        iin="810101300222",
        crl_url="http://crl.example.kz/issuing.crl",
    )


class TestTampering:
    def test_a_changed_byte_inside_the_signed_range_breaks_every_signature(self, pki: Pki, signed_twice: bytes) -> None:
        verdict = verify_pdf(pdf=_flip_byte_in_signed_text(signed_twice), trust_roots=[pki.root.certificate])
        assert not verdict.valid
        assert len(verdict.signatures) == 2
        for signature in verdict.signatures:
            assert not signature.intact
            assert not signature.valid
            assert "not_intact" in signature.problem_codes

    def test_the_cli_exits_1_for_a_changed_byte(self, pki: Pki, signed_twice: bytes, tmp_path: Path) -> None:
        path = tmp_path / "tampered.pdf"
        path.write_bytes(_flip_byte_in_signed_text(signed_twice))
        root = tmp_path / "root.pem"
        root.write_bytes(certificate_to_pem(pki.root.certificate))
        result = run_cli("verify", path, "--trust", root)
        assert result.returncode == 1, result.stderr
        assert "not_intact" in result.stdout
        assert "Document: INVALID" in result.stdout

    def test_drawing_on_a_page_after_signing_invalidates_the_signature(self, pki: Pki, signed_once: bytes) -> None:
        verdict = verify_pdf(pdf=draw_on_page(signed_once), trust_roots=[pki.root.certificate])
        (signature,) = verdict.signatures
        assert signature.intact
        assert signature.trusted
        assert signature.changed_after_signing
        assert signature.modification_level == "other"
        assert not signature.valid
        assert signature.problem_codes == ("modified_after_signing",)
        assert not verdict.valid

    def test_pdfsig_does_not_notice_the_drawing_which_is_why_we_do_not_rely_on_it(
        self, signed_once: bytes, tmp_path: Path, nss_db: str
    ) -> None:
        path = tmp_path / "drawn.pdf"
        path.write_bytes(draw_on_page(signed_once))
        output = run_tool("pdfsig", "-nssdir", nss_db, path, check=False).stdout
        # poppler only checks the signed byte range and notes that it is not the whole file.
        assert "Signature Validation: Signature is Valid." in output
        assert "Not total document signed" in output

    def test_a_later_signature_keeps_the_earlier_one_valid(self, pki: Pki, signed_twice: bytes) -> None:
        verdict = verify_pdf(pdf=signed_twice, trust_roots=[pki.root.certificate])
        assert [s.valid for s in verdict.signatures] == [True, True]
        assert [s.changed_after_signing for s in verdict.signatures] == [False, False]

    def test_drawing_after_two_signatures_invalidates_both(self, pki: Pki, signed_twice: bytes) -> None:
        verdict = verify_pdf(pdf=draw_on_page(signed_twice, page=1), trust_roots=[pki.root.certificate])
        assert [s.changed_after_signing for s in verdict.signatures] == [True, True]
        assert not verdict.valid


class TestDocumentLevel:
    def test_an_unsigned_pdf_is_not_valid(self, pki: Pki, transcript_pdf: bytes) -> None:
        verdict = verify_pdf(pdf=transcript_pdf, trust_roots=[pki.root.certificate])
        assert verdict.signatures == ()
        assert not verdict.valid
        assert verdict.problems == ("unsigned: the document carries no signature",)

    def test_the_verdict_carries_the_file_hash(self, pki: Pki, signed_once: bytes) -> None:
        verdict = verify_pdf(pdf=signed_once, trust_roots=[pki.root.certificate])
        assert verdict.sha256 == hashlib.sha256(signed_once).hexdigest()
        assert verdict.valid

    def test_garbage_is_an_unreadable_pdf_not_a_crash(self, pki: Pki) -> None:
        verdict = verify_pdf(pdf=b"%PDF-1.7\nthis is not really a pdf", trust_roots=[pki.root.certificate])
        assert not verdict.valid
        assert verdict.problems[0].startswith("unreadable_pdf")

    def test_signer_details_come_from_the_certificate(self, pki: Pki, signed_once: bytes) -> None:
        (signature,) = verify_pdf(pdf=signed_once, trust_roots=[pki.root.certificate]).signatures
        assert signature.signer is not None
        assert signature.signer.iin == REGISTRAR_IIN
        assert signature.certificate == pki.registrar.certificate
        assert signature.signing_time is not None
        assert abs(signature.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
        assert not signature.signing_time_from_timestamp


class TestTrust:
    def test_another_root_means_untrusted(self, pki: Pki, signed_once: bytes) -> None:
        (signature,) = verify_pdf(pdf=signed_once, trust_roots=[pki.stranger_root.certificate]).signatures
        assert signature.intact
        assert not signature.trusted
        assert not signature.valid
        assert signature.problem_codes == ("untrusted",)

    def test_no_trust_roots_means_untrusted(self, signed_once: bytes) -> None:
        (signature,) = verify_pdf(pdf=signed_once, trust_roots=[]).signatures
        assert not signature.trusted

    def test_a_revoked_certificate_is_reported_when_the_crl_is_given(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        signer = _signer_with_crl_url(pki)
        signed = sign_pdf(pdf=transcript_pdf, credential=signer, stamp=registrar_stamp, field_name="S")
        roots = [pki.root.certificate]
        assert verify_pdf(pdf=signed, trust_roots=roots).valid
        crl = _revocation_list(pki, signer.certificate)
        (signature,) = verify_pdf(pdf=signed, trust_roots=roots, crls=[crl]).signatures
        assert not signature.valid
        assert "revoked" in signature.problem_codes

    def test_a_crl_revoking_someone_else_changes_nothing(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        signer = _signer_with_crl_url(pki)
        signed = sign_pdf(pdf=transcript_pdf, credential=signer, stamp=registrar_stamp, field_name="S")
        crl = _revocation_list(pki, pki.dean.certificate)
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate], crls=[crl]).valid

    def test_a_certificate_expired_before_signing_is_reported(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
        expired = issue_signer_certificate(
            issuer=pki.issuing,
            full_name="Old Key",
            position="Former dean",
            organisation="U",
            iin="700101300123",
            valid_days=365,
            not_before=long_ago,
        )
        signed = sign_pdf(pdf=transcript_pdf, credential=expired, stamp=registrar_stamp, field_name="Old")
        (signature,) = verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).signatures
        assert not signature.valid
        assert "expired_at_signing" in signature.problem_codes


class TestInsideAnEventLoop:
    def test_signing_and_verifying_work_when_called_from_async_code(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        # e.g. an async Django view: the synchronous API must not trip over the running loop.
        async def handler() -> tuple[bool, bool]:
            signed = sign_pdf(pdf=transcript_pdf, credential=pki.registrar, stamp=registrar_stamp, field_name="S")
            cms = sign_detached(data=transcript_pdf, credential=pki.registrar)
            return (
                verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid,
                verify_detached(cms=cms, trust_roots=[pki.root.certificate], content=transcript_pdf).valid,
            )

        # A thread of its own: whatever loop the test run itself has running (Playwright's sync API
        # keeps one in the main thread) must not decide whether this test can start its own.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(asyncio.run, handler()).result() == (True, True)


@pytest.mark.parametrize("pages", [1, 3])
def test_any_page_count_can_be_signed_and_verified(pki: Pki, pages: int, registrar_stamp: StampText) -> None:
    pdf = make_pdf([[f"Page {n}"] for n in range(1, pages + 1)])
    signed = sign_pdf(pdf=pdf, credential=pki.registrar, stamp=registrar_stamp, field_name="S")
    assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid
