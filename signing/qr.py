"""Verification ids, verification URLs and QR code images (segno)."""

from __future__ import annotations

import io
import re
import secrets
from urllib.parse import urlsplit

import segno

# 16 random bytes (128 bits) from `secrets`, base64url without padding: always 22 characters.
# The last character carries only 2 bits, so it is one of A, Q, g, w; checking that too makes
# the shape check exact (every accepted id is one token_urlsafe(16) can produce).
VERIFICATION_ID_BYTES = 16
VERIFICATION_ID_LENGTH = 22
_VERIFICATION_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def new_verification_id() -> str:
    """A fresh unguessable verification id: 128 random bits, 22 URL-safe characters."""
    return secrets.token_urlsafe(VERIFICATION_ID_BYTES)


def is_valid_verification_id(value: str) -> bool:
    """Whether ``value`` has exactly the shape new_verification_id produces."""
    return isinstance(value, str) and _VERIFICATION_ID.fullmatch(value) is not None


def verification_url(*, site: str, verification_id: str, sha256: str | None = None) -> str:
    """``<site>/v/<id>``, with ``#<sha256 hex>`` when given; never carries personal data."""
    parts = urlsplit(site)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"site must be an http(s) URL without query or fragment, got {site!r}")
    if not is_valid_verification_id(verification_id):
        raise ValueError("verification_id does not have the shape of new_verification_id()")
    url = f"{site.rstrip('/')}/v/{verification_id}"
    if sha256 is not None:
        if not _SHA256_HEX.fullmatch(sha256):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        # The fragment never reaches the server; the page's script compares it with the file.
        url += f"#{sha256.lower()}"
    return url


def _qr(data: str) -> segno.QRCode:
    if not data:
        raise ValueError("QR data must not be empty")
    return segno.make(data, error="m", micro=False)


def qr_png(*, data: str, scale: int = 4, border: int = 4) -> bytes:
    """The QR code of ``data`` as PNG bytes (``scale`` pixels per module, ``border`` modules)."""
    buffer = io.BytesIO()
    _qr(data).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_svg(*, data: str, scale: int = 4, border: int = 4) -> str:
    """The QR code of ``data`` as an inline SVG element (no XML declaration)."""
    svg: str = _qr(data).svg_inline(scale=scale, border=border)
    return svg
