"""PAdES signatures with pyHanko: local signing with a visible stamp, and remote signing via NCALayer."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import core as asn1_core
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.cms import decode_cms, load_signed_data, verify_detached
from signing.errors import PdfSigningError, RemoteSignatureError
from signing.event_loop import run_blocking
from signing.keys import Credential, certificate_fingerprint
from signing.signer import CredentialSigner
from signing.stamp import (
    DEFAULT_FONT_PATH,
    KAZAKHSTAN_TIME,
    STAMP_HEIGHT,
    STAMP_LABELS,
    STAMP_WIDTH,
    StampText,
    stamp_style,
    stamp_text_params,
)
from signing.trust import to_asn1

# Room for the DER CMS of a remote signature: a chain of several RSA-4096 certificates, a
# timestamp token and revocation data fit comfortably; the PDF holds it hex-encoded (twice the size).
_REMOTE_CMS_RESERVED_BYTES = 32 * 1024

_PAGE_MARGIN = 28
_STAMP_GAP = 8


@dataclass(frozen=True)
class RemoteSigningState:
    """Everything needed to finish a remote signature later, serialisable with to_bytes/from_bytes."""

    prepared_pdf: bytes
    document_digest: bytes
    digest_algorithm: str
    reserved_region_start: int
    reserved_region_end: int
    expected_certificate_sha256: str | None = None

    def signed_bytes(self) -> bytes:
        """The exact bytes the signature covers (for signers that hash the data themselves)."""
        return self.prepared_pdf[: self.reserved_region_start] + self.prepared_pdf[self.reserved_region_end :]

    def to_bytes(self) -> bytes:
        """Serialise for storage between the prepare and finish requests."""
        header = {
            "digest": self.document_digest.hex(),
            "algorithm": self.digest_algorithm,
            "start": self.reserved_region_start,
            "end": self.reserved_region_end,
            "certificate": self.expected_certificate_sha256,
        }
        return json.dumps(header).encode("ascii") + b"\n" + self.prepared_pdf

    @classmethod
    def from_bytes(cls, data: bytes) -> RemoteSigningState:
        """Inverse of to_bytes."""
        header_line, _, pdf = data.partition(b"\n")
        try:
            header = json.loads(header_line)
            return cls(
                prepared_pdf=pdf,
                document_digest=bytes.fromhex(header["digest"]),
                digest_algorithm=str(header["algorithm"]),
                reserved_region_start=int(header["start"]),
                reserved_region_end=int(header["end"]),
                expected_certificate_sha256=header["certificate"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteSignatureError(f"remote signing state is damaged: {exc}") from None


@dataclass(frozen=True)
class PreparedRemoteSignature:
    """The digest the signer must sign (messageDigest of their CMS) and the state to finish with."""

    digest: bytes
    digest_algorithm: str
    state: RemoteSigningState

    @property
    def digest_base64(self) -> str:
        """The digest as NCALayer expects it for signing a pre-computed hash."""
        return base64.b64encode(self.digest).decode("ascii")


def _open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        # Strict, like verify_pdf: a file our own verifier would refuse (e.g. hybrid
        # cross-reference sections) is refused before signing, not after.
        return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
    except (PdfReadError, ValueError, KeyError, IndexError) as exc:
        raise PdfSigningError(f"not a readable PDF: {exc}") from None


def _page_box(page: generic.DictionaryObject) -> tuple[float, float, float, float]:
    node: Any = page
    while node is not None:
        for key in ("/CropBox", "/MediaBox"):
            if key in node:
                x0, y0, x1, y1 = (float(v) for v in node[key])
                return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    # PDF's default page size is US Letter when nothing says otherwise.
    return 0.0, 0.0, 612.0, 792.0


def _occupied_rects(page: generic.DictionaryObject) -> list[tuple[float, float, float, float]]:
    rects = []
    for annot_ref in page.get("/Annots", generic.ArrayObject()):
        annot = annot_ref.get_object()
        if "/Rect" not in annot:
            continue
        x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
        if x0 != x1 and y0 != y1:
            rects.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return rects


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _auto_box(writer: IncrementalPdfFileWriter, page_index: int) -> tuple[int, int, int, int]:
    page_ref, _ = writer.find_page_for_modification(page_index)  # type: ignore[no-untyped-call]
    page = page_ref.get_object()
    left, bottom, right, top = _page_box(page)
    occupied = _occupied_rects(page)
    y = bottom + _PAGE_MARGIN
    # Fill the page bottom-up, left to right, so each signer's stamp lands next to the
    # previous one instead of on top of it.
    while y + STAMP_HEIGHT <= top - _PAGE_MARGIN:
        x = left + _PAGE_MARGIN
        while x + STAMP_WIDTH <= right - _PAGE_MARGIN:
            box = (x, y, x + STAMP_WIDTH, y + STAMP_HEIGHT)
            if not any(_overlaps(box, rect) for rect in occupied):
                return round(box[0]), round(box[1]), round(box[2]), round(box[3])
            x += STAMP_WIDTH + _STAMP_GAP
        y += STAMP_HEIGHT + _STAMP_GAP
    raise PdfSigningError("no free place for the signature stamp on the page; pass an explicit box")


def _page_count(writer: IncrementalPdfFileWriter) -> int:
    return int(writer.root["/Pages"]["/Count"])


def _resolve_page(writer: IncrementalPdfFileWriter, page: int) -> int:
    count = _page_count(writer)
    index = page if page >= 0 else count + page
    if not 0 <= index < count:
        raise PdfSigningError(f"page {page} does not exist (the document has {count} pages)")
    return index


def _field_spec(
    writer: IncrementalPdfFileWriter, field_name: str, page: int, box: tuple[int, int, int, int] | None
) -> fields.SigFieldSpec:
    page_index = _resolve_page(writer, page)
    if box is None:
        box = _auto_box(writer, page_index)
    elif not (box[0] < box[2] and box[1] < box[3]):
        raise PdfSigningError(f"stamp box must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2, got {box}")
    return fields.SigFieldSpec(sig_field_name=field_name, on_page=page_index, box=box)


def _check_field_name(field_name: str) -> None:
    if not field_name or "." in field_name:
        # A dot would make pyHanko treat the name as a path in the form field hierarchy.
        raise PdfSigningError(f"field_name must be non-empty and contain no dots, got {field_name!r}")


def sign_pdf(
    *,
    pdf: bytes,
    credential: Credential,
    stamp: StampText,
    field_name: str,
    reason: str | None = None,
    location: str | None = None,
    tsa_url: str | None = None,
    qr_url: str | None = None,
    page: int = -1,
    box: tuple[int, int, int, int] | None = None,
    font_path: str | None = None,
) -> bytes:
    """Sign a PDF as an incremental update (PAdES-B-B, or B-T with a TSA) with a visible stamp."""
    _check_field_name(field_name)
    writer = _open_writer(pdf)
    template, params = stamp_text_params(stamp=stamp, qr_url=qr_url)
    style = stamp_style(stamp=stamp, template=template, qr_url=qr_url, font_path=font_path or DEFAULT_FONT_PATH)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=CredentialSigner(credential),
        timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None,
        stamp_style=style,
        new_field_spec=_field_spec(writer, field_name, page, box),
    )
    output = io.BytesIO()
    try:
        run_blocking(pdf_signer.async_sign_pdf(writer, appearance_text_params=params, output=output))
    except TimestampRequestError as exc:
        raise PdfSigningError(f"the timestamp server {tsa_url} did not answer: {exc}") from exc
    except SigningError as exc:
        raise PdfSigningError(f"could not sign the PDF: {exc}") from exc
    return output.getvalue()


def prepare_remote_signature(
    *,
    pdf: bytes,
    stamp: StampText,
    field_name: str,
    certificate: x509.Certificate | None = None,
    reason: str | None = None,
    location: str | None = None,
    qr_url: str | None = None,
    page: int = -1,
    box: tuple[int, int, int, int] | None = None,
    font_path: str | None = None,
) -> PreparedRemoteSignature:
    """Add the signature field and stamp, and return the SHA-256 digest the remote signer must sign."""
    _check_field_name(field_name)
    writer = _open_writer(pdf)
    template, params = stamp_text_params(stamp=stamp, qr_url=qr_url)
    style = stamp_style(stamp=stamp, template=template, qr_url=qr_url, font_path=font_path or DEFAULT_FONT_PATH)
    # NCALayer returns a complete CMS (with its own signingTime and no signing-certificate-v2
    # attribute), which fits the adbe.pkcs7.detached subfilter rather than PAdES.
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    )
    external = signers.ExternalSigner(
        signing_cert=to_asn1(certificate) if certificate is not None else None,
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
        signature_value=256,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=external,
        stamp_style=style,
        new_field_spec=_field_spec(writer, field_name, page, box),
    )
    output = io.BytesIO()
    try:
        prepared_digest, _, _ = run_blocking(
            pdf_signer.async_digest_doc_for_signing(
                writer,
                bytes_reserved=_REMOTE_CMS_RESERVED_BYTES * 2,
                appearance_text_params=params,
                output=output,
            )
        )
    except SigningError as exc:
        raise PdfSigningError(f"could not prepare the PDF for signing: {exc}") from exc
    state = RemoteSigningState(
        prepared_pdf=output.getvalue(),
        document_digest=prepared_digest.document_digest,
        digest_algorithm="sha256",
        reserved_region_start=prepared_digest.reserved_region_start,
        reserved_region_end=prepared_digest.reserved_region_end,
        expected_certificate_sha256=certificate_fingerprint(certificate) if certificate is not None else None,
    )
    return PreparedRemoteSignature(digest=state.document_digest, digest_algorithm="sha256", state=state)


def finish_remote_signature(
    *,
    state: RemoteSigningState | bytes,
    cms: bytes | str,
    trust_roots: Sequence[x509.Certificate] = (),
    expected_iin: str | None = None,
) -> bytes:
    """Check the remote signer's detached CMS against the prepared PDF and embed it there."""
    # The CMS must sign exactly the prepared byte ranges with an intact signature value; with
    # trust_roots (and expected_iin) the signer must also be trusted (and be that person).
    if isinstance(state, bytes):
        state = RemoteSigningState.from_bytes(state)
    try:
        der = decode_cms(cms)
        if load_signed_data(der)["encap_content_info"]["content"] is not asn1_core.VOID:
            raise RemoteSignatureError("the CMS must be detached (NCALayer: encapsulate=false)")
    except ValueError as exc:
        raise RemoteSignatureError(f"the CMS cannot be used: {exc}") from None
    verdict = verify_detached(
        cms=der,
        trust_roots=trust_roots,
        content=state.signed_bytes(),
        expected_iin=expected_iin,
        accept_hash_signing=False,
    )
    # Without trust roots only integrity can be judged; trust is then the verifier's job.
    ignorable = () if trust_roots else ("untrusted", "timestamp_invalid")
    blocking = [p for p in verdict.problems if not p.startswith(ignorable)]
    if blocking:
        raise RemoteSignatureError("the CMS does not fit the prepared PDF: " + "; ".join(blocking))
    expected = state.expected_certificate_sha256
    signed_by = certificate_fingerprint(verdict.certificate) if verdict.certificate is not None else None
    if expected is not None and signed_by != expected:
        raise RemoteSignatureError("the CMS was signed with another certificate than the one prepared for")
    reserved_hex_digits = state.reserved_region_end - state.reserved_region_start - 2
    if len(der) * 2 > reserved_hex_digits:
        raise RemoteSignatureError(
            f"the CMS is {len(der)} bytes; at most {reserved_hex_digits // 2} fit in the prepared PDF"
        )
    output = io.BytesIO(state.prepared_pdf)
    prepared = PreparedByteRangeDigest(
        document_digest=state.document_digest,
        reserved_region_start=state.reserved_region_start,
        reserved_region_end=state.reserved_region_end,
    )
    run_blocking(PdfTBSDocument.async_finish_signing(output, prepared, der))
    return output.getvalue()


# StampText and its constants live in signing.stamp; callers get them from here with sign_pdf.
__all__ = [
    "DEFAULT_FONT_PATH",
    "KAZAKHSTAN_TIME",
    "STAMP_LABELS",
    "PreparedRemoteSignature",
    "RemoteSigningState",
    "StampText",
    "finish_remote_signature",
    "prepare_remote_signature",
    "sign_pdf",
]
