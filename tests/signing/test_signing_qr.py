"""Verification ids, verification URLs and QR images."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from signing_testbed import run_tool

from signing.qr import (
    VERIFICATION_ID_LENGTH,
    is_valid_verification_id,
    new_verification_id,
    qr_png,
    qr_svg,
    verification_url,
)

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class TestVerificationId:
    def test_an_id_carries_128_random_bits_in_22_url_safe_characters(self) -> None:
        identifier = new_verification_id()
        assert len(identifier) == VERIFICATION_ID_LENGTH == 22
        assert len(base64.urlsafe_b64decode(identifier + "==")) == 16
        assert is_valid_verification_id(identifier)

    def test_ids_do_not_repeat(self) -> None:
        identifiers = {new_verification_id() for _ in range(2000)}
        assert len(identifiers) == 2000
        assert all(is_valid_verification_id(i) for i in identifiers)

    @pytest.mark.parametrize(
        "malformed",
        [
            "",
            "short",
            "Zq3Xw9dLkP0aB7cR5tYu1",  # 21 characters
            "Zq3Xw9dLkP0aB7cR5tYu1AA",  # 23 characters
            "Zq3Xw9dLkP0aB7cR5tYu1B",  # last character carries bits a 16-byte token cannot have
            "Zq3Xw9dLkP0aB7cR5tY+1A",  # standard base64, not URL-safe
            "Zq3Xw9dLkP0aB7cR5tYu==",  # padding
            "../../../etc/passwd/xA",
            "Zq3Xw9dLkP0aB7cR5tYu1A\n",
            "Zq3Xw9dLkP0aB7cR5tYуA",  # Cyrillic у
        ],
    )
    def test_malformed_ids_are_rejected(self, malformed: str) -> None:
        assert not is_valid_verification_id(malformed)

    def test_a_well_formed_id_is_accepted(self) -> None:
        assert is_valid_verification_id("Zq3Xw9dLkP0aB7cR5tYu1A")


class TestVerificationUrl:
    def test_url_without_hash(self) -> None:
        url = verification_url(site="https://qujat.example.kz", verification_id="Zq3Xw9dLkP0aB7cR5tYu1A")
        assert url == "https://qujat.example.kz/v/Zq3Xw9dLkP0aB7cR5tYu1A"

    def test_url_with_hash_in_the_fragment(self) -> None:
        url = verification_url(
            site="https://qujat.example.kz/", verification_id="Zq3Xw9dLkP0aB7cR5tYu1A", sha256=SHA256.upper()
        )
        assert url == f"https://qujat.example.kz/v/Zq3Xw9dLkP0aB7cR5tYu1A#{SHA256}"

    def test_a_site_under_a_path_is_kept(self) -> None:
        url = verification_url(site="https://univ.kz/qujat", verification_id="Zq3Xw9dLkP0aB7cR5tYu1A")
        assert url == "https://univ.kz/qujat/v/Zq3Xw9dLkP0aB7cR5tYu1A"

    @pytest.mark.parametrize(
        ("site", "identifier", "sha256"),
        [
            ("qujat.example.kz", "Zq3Xw9dLkP0aB7cR5tYu1A", None),
            ("https://qujat.example.kz?x=1", "Zq3Xw9dLkP0aB7cR5tYu1A", None),
            ("https://qujat.example.kz", "not-an-id", None),
            ("https://qujat.example.kz", "Zq3Xw9dLkP0aB7cR5tYu1A", "abc"),
            ("https://qujat.example.kz", "Zq3Xw9dLkP0aB7cR5tYu1A", "g" * 64),
        ],
    )
    def test_bad_parts_are_refused(self, site: str, identifier: str, sha256: str | None) -> None:
        with pytest.raises(ValueError, match=r"site must be|verification_id does not|sha256 must be"):
            verification_url(site=site, verification_id=identifier, sha256=sha256)


class TestQrImages:
    def test_png_decodes_to_the_url(self, tmp_path: Path) -> None:
        url = verification_url(site="https://qujat.example.kz", verification_id=new_verification_id(), sha256=SHA256)
        image = tmp_path / "qr.png"
        image.write_bytes(qr_png(data=url))
        assert run_tool("zbarimg", "--quiet", "--raw", image).stdout.strip() == url

    def test_png_size_follows_scale_and_border(self) -> None:
        small = qr_png(data="https://qujat.example.kz/v/Zq3Xw9dLkP0aB7cR5tYu1A", scale=2, border=1)
        large = qr_png(data="https://qujat.example.kz/v/Zq3Xw9dLkP0aB7cR5tYu1A", scale=8, border=4)
        assert small.startswith(b"\x89PNG")
        assert len(small) < len(large)

    def test_svg_is_an_inline_svg_element(self) -> None:
        svg = qr_svg(data="https://qujat.example.kz/v/Zq3Xw9dLkP0aB7cR5tYu1A")
        assert svg.startswith("<svg")
        assert "<?xml" not in svg
        assert svg.rstrip().endswith("</svg>")

    def test_empty_data_is_refused(self) -> None:
        with pytest.raises(ValueError, match="must not be empty"):
            qr_png(data="")
