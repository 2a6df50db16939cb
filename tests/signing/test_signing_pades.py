"""Signing PDFs: what other tools see in our signatures, the visible stamp, timestamps, remote signing."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signing_testbed import (
    DEAN_NAME,
    REGISTRAR_IIN,
    REGISTRAR_NAME,
    Pki,
    PkiFiles,
    TimestampAuthority,
    run_tool,
)

from signing.cms import sign_detached
from signing.errors import PdfSigningError, RemoteSignatureError
from signing.keys import Credential
from signing.pades import (
    PreparedRemoteSignature,
    RemoteSigningState,
    StampText,
    finish_remote_signature,
    prepare_remote_signature,
    sign_pdf,
)
from signing.verify import verify_pdf


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _pdfsig(path: Path, nss_db: str | None = None) -> str:
    args: list[str | Path] = ["pdfsig"]
    if nss_db is not None:
        args += ["-nssdir", nss_db]
    return run_tool(*args, path, check=False).stdout


def _stamp_rects(pdf: bytes) -> dict[str, tuple[float, ...]]:
    reader = PdfFileReader(io.BytesIO(pdf))
    rects = {}
    for field_ref in reader.root["/AcroForm"]["/Fields"]:
        field = field_ref.get_object()
        rects[str(field["/T"])] = tuple(float(v) for v in field["/Rect"])
    return rects


class TestOtherToolsAgree:
    def test_pdfsig_finds_one_valid_signature_trusted_with_the_university_root(
        self, signed_once: bytes, tmp_path: Path, nss_db: str
    ) -> None:
        path = _write(tmp_path, "signed.pdf", signed_once)
        untrusted_view = _pdfsig(path)
        assert untrusted_view.count("Signature Validation: Signature is Valid.") == 1
        assert "Total document signed" in untrusted_view
        trusted_view = _pdfsig(path, nss_db)
        assert "Certificate Validation: Certificate is Trusted." in trusted_view
        assert REGISTRAR_NAME in trusted_view
        assert f"serialNumber=IIN{REGISTRAR_IIN}" in trusted_view

    def test_pdfsig_accepts_both_signatures_of_registrar_head_and_dean(
        self, signed_twice: bytes, tmp_path: Path, nss_db: str
    ) -> None:
        output = _pdfsig(_write(tmp_path, "signed-twice.pdf", signed_twice), nss_db)
        assert output.count("Signature Validation: Signature is Valid.") == 2
        assert output.count("Certificate Validation: Certificate is Trusted.") == 2
        assert "Signature Type: ETSI.CAdES.detached" in output

    def test_pyhanko_cli_validates_both_signatures(
        self, signed_twice: bytes, tmp_path: Path, pki_files: PkiFiles
    ) -> None:
        result = run_tool(
            Path(sys.executable).with_name("pyhanko"),
            "sign",
            "validate",
            "--trust",
            pki_files.root_pem,
            "--trust-replace",
            "--no-revocation-check",
            "--executive-summary",
            _write(tmp_path, "signed-twice.pdf", signed_twice),
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert re.findall(r"^(\w+):[0-9a-f]{64}:VALID$", result.stdout, re.MULTILINE) == [
            "RegistrarHead",
            "SchoolDean",
        ]


class TestTwoSigners:
    def test_both_signatures_stay_valid_in_our_verifier(self, pki: Pki, signed_twice: bytes) -> None:
        verdict = verify_pdf(pdf=signed_twice, trust_roots=[pki.root.certificate])
        assert verdict.valid
        registrar, dean = verdict.signatures
        assert (registrar.field_name, dean.field_name) == ("RegistrarHead", "SchoolDean")
        assert registrar.signer is not None
        assert registrar.signer.subject_common_name == REGISTRAR_NAME
        assert dean.signer is not None
        assert dean.signer.subject_common_name == DEAN_NAME
        assert registrar.coverage == "entire_revision"
        assert registrar.modification_level == "form_filling"
        assert not registrar.changed_after_signing
        assert dean.coverage == "entire_file"
        assert registrar.reason == "Transcript approved"

    def test_the_second_stamp_does_not_cover_the_first(self, signed_twice: bytes) -> None:
        rects = _stamp_rects(signed_twice)
        first, second = rects["RegistrarHead"], rects["SchoolDean"]
        assert first[2] <= second[0] or second[2] <= first[0] or first[3] <= second[1] or second[3] <= first[1]
        for x1, y1, x2, y2 in (first, second):
            assert 0 <= x1 < x2 <= 595
            assert 0 <= y1 < y2 <= 842

    def test_a_third_signer_gets_a_free_place_too(
        self, pki: Pki, signed_twice: bytes, registrar_stamp: StampText
    ) -> None:
        signed = sign_pdf(pdf=signed_twice, credential=pki.registrar, stamp=registrar_stamp, field_name="ViceRector")
        rects = list(_stamp_rects(signed).values())
        assert len(rects) == 3
        for index, a in enumerate(rects):
            for b in rects[index + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid

    def test_a_field_name_cannot_be_signed_twice(self, pki: Pki, signed_once: bytes, dean_stamp: StampText) -> None:
        with pytest.raises(PdfSigningError):
            sign_pdf(pdf=signed_once, credential=pki.dean, stamp=dean_stamp, field_name="RegistrarHead")


class TestVisibleStamp:
    def test_the_qr_code_decodes_to_the_verification_url_at_150_dpi(
        self, signed_twice: bytes, qr_url: str, tmp_path: Path
    ) -> None:
        path = _write(tmp_path, "signed.pdf", signed_twice)
        # The stamps go to the first page's blank paper (this one has plenty); the QR code with the first of them.
        run_tool("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", path, tmp_path / "page")
        (image,) = tmp_path.glob("page*.png")
        decoded = run_tool("zbarimg", "--quiet", "--raw", image).stdout.split()
        assert decoded == [qr_url]

    def test_the_kazakh_and_russian_stamp_text_is_real_text(self, signed_twice: bytes, tmp_path: Path) -> None:
        path = _write(tmp_path, "signed.pdf", signed_twice)
        text = run_tool("pdftotext", "-f", "1", "-l", "1", path, "-").stdout
        assert REGISTRAR_NAME in text
        assert DEAN_NAME in text
        assert "Тіркеу кеңсесінің басшысы" in text
        assert "Подписано электронной цифровой" in text
        assert "Уақыты:" in text

    def test_a_signers_stamps_share_one_font_subset_and_still_read_right(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str, tmp_path: Path
    ) -> None:
        """The embedded font program is cut once per glyph set: the second stamp of a signer reuses it."""
        from signing.stamp import _font_program

        def sign() -> bytes:
            return sign_pdf(
                pdf=transcript_pdf, credential=pki.registrar, stamp=registrar_stamp, field_name="Again", qr_url=qr_url
            )

        sign()
        hits = _font_program.cache_info().hits
        signed = sign()
        assert _font_program.cache_info().hits == hits + 1
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid
        text = run_tool("pdftotext", "-f", "1", "-l", "1", _write(tmp_path, "again.pdf", signed), "-").stdout
        assert REGISTRAR_NAME in text
        assert "Тіркеу кеңсесінің басшысы" in text

    def test_the_stamp_shows_the_signing_time_in_kazakhstan_time(
        self, pki: Pki, signed_once: bytes, tmp_path: Path
    ) -> None:
        (signature,) = verify_pdf(pdf=signed_once, trust_roots=[pki.root.certificate]).signatures
        assert signature.signing_time is not None
        local = signature.signing_time.astimezone(StampText.timezone).strftime("%d.%m.%Y %H:%M:%S")
        text = run_tool("pdftotext", "-f", "1", "-l", "1", _write(tmp_path, "s.pdf", signed_once), "-").stdout
        assert f"{local} UTC+5" in text

    def test_an_explicit_box_and_page_place_the_stamp(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        signed = sign_pdf(
            pdf=transcript_pdf,
            credential=pki.registrar,
            stamp=registrar_stamp,
            field_name="Placed",
            page=0,
            box=(300, 600, 560, 700),
        )
        assert _stamp_rects(signed)["Placed"] == (300, 600, 560, 700)
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid

    def test_a_stamp_without_qr_code_is_still_a_valid_signature(
        self, pki: Pki, transcript_pdf: bytes, tmp_path: Path
    ) -> None:
        stamp = StampText(signer_name="Jane Registrar", position="Head of Registrar Office")
        signed = sign_pdf(pdf=transcript_pdf, credential=pki.registrar, stamp=stamp, field_name="NoQr")
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid
        text = run_tool("pdftotext", "-f", "1", "-l", "1", _write(tmp_path, "s.pdf", signed), "-").stdout
        assert "Signed with a digital signature" in text
        assert "Head of Registrar Office" in text

    def test_a_missing_font_and_a_missing_page_are_clear_errors(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        with pytest.raises(PdfSigningError, match="stamp font not found"):
            sign_pdf(
                pdf=transcript_pdf,
                credential=pki.registrar,
                stamp=registrar_stamp,
                field_name="S",
                font_path="/nonexistent.ttf",
            )
        with pytest.raises(PdfSigningError, match="page 5 does not exist"):
            sign_pdf(pdf=transcript_pdf, credential=pki.registrar, stamp=registrar_stamp, field_name="S", page=5)
        with pytest.raises(PdfSigningError, match="not a readable PDF"):
            sign_pdf(pdf=b"hello", credential=pki.registrar, stamp=registrar_stamp, field_name="S")

    def test_an_rsa_key_signs_as_well(
        self, rsa_signer: Credential, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        signed = sign_pdf(pdf=transcript_pdf, credential=rsa_signer, stamp=registrar_stamp, field_name="Rsa")
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid


class TestTimestamp:
    def test_with_a_tsa_the_signing_time_comes_from_the_timestamp_token(
        self,
        pki: Pki,
        transcript_pdf: bytes,
        registrar_stamp: StampText,
        timestamp_authority: TimestampAuthority,
        tmp_path: Path,
        nss_db: str,
    ) -> None:
        signed = sign_pdf(
            pdf=transcript_pdf,
            credential=pki.registrar,
            stamp=registrar_stamp,
            field_name="WithTimestamp",
            tsa_url=timestamp_authority.url,
        )
        (signature,) = verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).signatures
        assert signature.valid, signature.problems
        assert signature.signing_time_from_timestamp
        output = _pdfsig(_write(tmp_path, "bt.pdf", signed), nss_db)
        assert "Signature Validation: Signature is Valid." in output

    def test_an_unreachable_tsa_fails_the_signing(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        with pytest.raises(PdfSigningError, match=r"timestamp server http://127\.0\.0\.1:9/tsa did not answer"):
            sign_pdf(
                pdf=transcript_pdf,
                credential=pki.registrar,
                stamp=registrar_stamp,
                field_name="S",
                tsa_url="http://127.0.0.1:9/tsa",
            )


class TestRemoteSigning:
    def _prepare(self, pki: Pki, pdf: bytes, stamp: StampText, qr_url: str) -> PreparedRemoteSignature:
        return prepare_remote_signature(
            pdf=pdf,
            stamp=stamp,
            field_name="RemoteRegistrar",
            certificate=pki.registrar.certificate,
            qr_url=qr_url,
        )

    def test_a_cms_made_on_the_signers_computer_completes_the_pdf(
        self,
        pki: Pki,
        transcript_pdf: bytes,
        registrar_stamp: StampText,
        qr_url: str,
        tmp_path: Path,
        nss_db: str,
    ) -> None:
        prepared = self._prepare(pki, transcript_pdf, registrar_stamp, qr_url)
        # The state survives a trip through storage between the two HTTP requests.
        state = RemoteSigningState.from_bytes(prepared.state.to_bytes())
        # Stand-in for NCALayer: a detached CMS whose messageDigest is the prepared digest.
        cms = sign_detached(data=state.signed_bytes(), credential=pki.registrar)
        signed = finish_remote_signature(
            state=state, cms=cms, trust_roots=[pki.root.certificate], expected_iin=REGISTRAR_IIN
        )
        (signature,) = verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).signatures
        assert signature.valid, signature.problems
        assert signature.field_name == "RemoteRegistrar"
        output = _pdfsig(_write(tmp_path, "remote.pdf", signed), nss_db)
        assert "Signature Validation: Signature is Valid." in output
        assert "Certificate Validation: Certificate is Trusted." in output

    def test_the_digest_to_sign_is_the_sha256_of_the_signed_byte_ranges(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str
    ) -> None:
        prepared = self._prepare(pki, transcript_pdf, registrar_stamp, qr_url)
        assert prepared.digest_algorithm == "sha256"
        assert prepared.digest == hashlib.sha256(prepared.state.signed_bytes()).digest()
        assert len(prepared.digest_base64) == 44

    def test_base64_cms_as_ncalayer_returns_it_is_accepted(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str
    ) -> None:
        prepared = self._prepare(pki, transcript_pdf, registrar_stamp, qr_url)
        cms = sign_detached(data=prepared.state.signed_bytes(), credential=pki.registrar)
        wrapped = "\r\n".join(re.findall(".{1,76}", base64.b64encode(cms).decode()))
        signed = finish_remote_signature(state=prepared.state.to_bytes(), cms=wrapped)
        assert verify_pdf(pdf=signed, trust_roots=[pki.root.certificate]).valid

    def test_a_cms_over_other_content_is_refused(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str
    ) -> None:
        prepared = self._prepare(pki, transcript_pdf, registrar_stamp, qr_url)
        cms = sign_detached(data=b"some other document", credential=pki.registrar)
        with pytest.raises(RemoteSignatureError, match="content_mismatch"):
            finish_remote_signature(state=prepared.state, cms=cms)

    def test_a_cms_by_someone_else_is_refused(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText, qr_url: str
    ) -> None:
        prepared = self._prepare(pki, transcript_pdf, registrar_stamp, qr_url)
        cms = sign_detached(data=prepared.state.signed_bytes(), credential=pki.dean)
        with pytest.raises(RemoteSignatureError, match="another certificate"):
            finish_remote_signature(state=prepared.state, cms=cms)
        with pytest.raises(RemoteSignatureError, match="iin_mismatch"):
            finish_remote_signature(
                state=prepared.state, cms=cms, trust_roots=[pki.root.certificate], expected_iin=REGISTRAR_IIN
            )

    def test_a_damaged_state_is_a_clear_error(self) -> None:
        with pytest.raises(RemoteSignatureError, match="remote signing state is damaged"):
            finish_remote_signature(state=b"not a state\n%PDF-1.7", cms=b"")

    def test_an_untrusted_signer_is_refused_when_trust_roots_are_given(
        self, pki: Pki, transcript_pdf: bytes, registrar_stamp: StampText
    ) -> None:
        prepared = prepare_remote_signature(pdf=transcript_pdf, stamp=registrar_stamp, field_name="Remote")
        cms = sign_detached(data=prepared.state.signed_bytes(), credential=pki.stranger)
        with pytest.raises(RemoteSignatureError, match="untrusted"):
            finish_remote_signature(state=prepared.state, cms=cms, trust_roots=[pki.root.certificate])


@pytest.fixture(scope="module")
def libreoffice_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real office-suite PDF (compressed streams, embedded fonts), when LibreOffice is installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    directory = tmp_path_factory.mktemp("libreoffice")
    source = directory / "transcript.txt"
    source.write_text("ТРАНСКРИПТ № 2024-000123\nБілім алушы: Тест Студент\nGPA 3.67\n", encoding="utf-8")
    try:
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation={(directory / 'profile').as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(directory),
                str(source),
            ],
            capture_output=True,
            timeout=180,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"LibreOffice could not convert the sample: {exc}")
    return (directory / "transcript.pdf").read_bytes()


def test_a_libreoffice_pdf_takes_two_signatures(
    pki: Pki,
    libreoffice_pdf: bytes,
    registrar_stamp: StampText,
    dean_stamp: StampText,
    qr_url: str,
    tmp_path: Path,
    nss_db: str,
) -> None:
    once = sign_pdf(pdf=libreoffice_pdf, credential=pki.registrar, stamp=registrar_stamp, field_name="A", qr_url=qr_url)
    twice = sign_pdf(pdf=once, credential=pki.dean, stamp=dean_stamp, field_name="B")
    verdict = verify_pdf(pdf=twice, trust_roots=[pki.root.certificate])
    assert [s.valid for s in verdict.signatures] == [True, True]
    output = _pdfsig(_write(tmp_path, "lo.pdf", twice), nss_db)
    assert output.count("Certificate Validation: Certificate is Trusted.") == 2
