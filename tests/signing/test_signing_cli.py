"""``python -m signing``: what an administrator sees and the exit status a script can rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from signing_testbed import DEAN_NAME, REGISTRAR_IIN, REGISTRAR_NAME, Pki, PkiFiles, run_cli

from signing.cms import sign_detached

DOCUMENT = b"Memo No. 2: please issue a login for the new teacher.\n"


@pytest.fixture
def files(tmp_path: Path, signed_twice: bytes, transcript_pdf: bytes, pki: Pki) -> dict[str, Path]:
    paths = {
        "signed": tmp_path / "signed.pdf",
        "unsigned": tmp_path / "unsigned.pdf",
        "document": tmp_path / "memo.txt",
        "cms": tmp_path / "memo.cms",
        "garbage": tmp_path / "garbage.pem",
    }
    paths["signed"].write_bytes(signed_twice)
    paths["unsigned"].write_bytes(transcript_pdf)
    paths["document"].write_bytes(DOCUMENT)
    paths["cms"].write_bytes(sign_detached(data=DOCUMENT, credential=pki.registrar))
    paths["garbage"].write_bytes(b"this is not a certificate")
    return paths


class TestVerifyPdf:
    def test_a_valid_document_exits_0_and_names_the_signers(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli("verify", files["signed"], "--trust", pki_files.root_pem)
        assert result.returncode == 0, result.stdout + result.stderr
        assert REGISTRAR_NAME in result.stdout
        assert DEAN_NAME in result.stdout
        assert f"IIN {REGISTRAR_IIN}" in result.stdout
        assert result.stdout.count("  VALID") == 2
        assert "Document: VALID (2 signatures" in result.stdout

    def test_several_trust_files_may_be_given(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli(
            "verify", files["signed"], "--trust", pki_files.stranger_root_pem, "--trust", pki_files.root_pem
        )
        assert result.returncode == 0

    def test_an_untrusted_document_exits_1(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli("verify", files["signed"], "--trust", pki_files.stranger_root_pem)
        assert result.returncode == 1
        assert "INVALID: untrusted" in result.stdout

    def test_an_unsigned_document_exits_1(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli("verify", files["unsigned"], "--trust", pki_files.root_pem)
        assert result.returncode == 1
        assert "unsigned" in result.stdout

    def test_a_missing_file_is_a_usage_error(self, tmp_path: Path, pki_files: PkiFiles) -> None:
        result = run_cli("verify", tmp_path / "missing.pdf", "--trust", pki_files.root_pem)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert result.stderr.startswith("error: cannot read PDF")

    def test_a_bad_trust_file_is_a_usage_error(self, files: dict[str, Path]) -> None:
        result = run_cli("verify", files["signed"], "--trust", files["garbage"])
        assert result.returncode == 2
        assert "no usable certificate" in result.stderr

    def test_missing_arguments_are_a_usage_error(self, files: dict[str, Path]) -> None:
        assert run_cli("verify", files["signed"]).returncode == 2
        assert run_cli().returncode == 2


class TestVerifyCms:
    def test_a_matching_cms_exits_0(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli(
            "verify-cms", files["cms"], "--content", files["document"], "--trust", pki_files.root_pem,
            "--iin", REGISTRAR_IIN,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "VALID" in result.stdout
        assert REGISTRAR_NAME in result.stdout

    def test_other_content_exits_1(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli("verify-cms", files["cms"], "--content", files["unsigned"], "--trust", pki_files.root_pem)
        assert result.returncode == 1
        assert "content_mismatch" in result.stdout

    def test_another_persons_iin_exits_1(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli(
            "verify-cms", files["cms"], "--content", files["document"], "--trust", pki_files.root_pem,
            "--iin", "000000000000",
        )  # fmt: skip
        assert result.returncode == 1
        assert "iin_mismatch" in result.stdout

    def test_a_malformed_iin_is_a_usage_error(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        result = run_cli(
            "verify-cms",
            files["cms"],
            "--content",
            files["document"],
            "--trust",
            pki_files.root_pem,
            "--iin",
            "12",
        )
        assert result.returncode == 2
        assert "IIN must be exactly 12 digits" in result.stderr

    def test_the_content_is_required(self, files: dict[str, Path], pki_files: PkiFiles) -> None:
        assert run_cli("verify-cms", files["cms"], "--trust", pki_files.root_pem).returncode == 2
