"""PAdES signatures with pyHanko: local signing with a visible stamp, and remote signing via NCALayer."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
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
from signing.placement import free_box
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


def _page_count(writer: IncrementalPdfFileWriter) -> int:
    return int(writer.root["/Pages"]["/Count"])


def _resolve_page(writer: IncrementalPdfFileWriter, page: int) -> int:
    count = _page_count(writer)
    index = page if page >= 0 else count + page
    if not 0 <= index < count:
        raise PdfSigningError(f"page {page} does not exist (the document has {count} pages)")
    return index


def _field_spec(
    writer: IncrementalPdfFileWriter,
    pdf: bytes,
    field_name: str,
    page: int | None,
    box: tuple[int, int, int, int] | None,
) -> fields.SigFieldSpec:
    if box is None:
        # One way to place a stamp: on blank paper (signing.placement), the first page before the last.
        pages = (0, -1) if page is None else (_resolve_page(writer, page),)
        placed = free_box(pdf, width=STAMP_WIDTH, height=STAMP_HEIGHT, pages=pages)
        if placed is None:
            raise PdfSigningError("no free place for the signature stamp on the page; pass an explicit box")
        page_index, box = placed
    elif not (box[0] < box[2] and box[1] < box[3]):
        raise PdfSigningError(f"stamp box must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2, got {box}")
    else:
        page_index = _resolve_page(writer, -1 if page is None else page)
    return fields.SigFieldSpec(sig_field_name=field_name, on_page=page_index, box=box)


def _reserved_hex_digits(credential: Credential, *, timestamped: bool) -> int:
    # Room for the CMS, worked out from what goes in it: the certificates, 4 KiB for the signed attributes and
    # the signature value, 12 KiB for a timestamp token with its chain. Left to itself pyHanko estimates it by
    # signing a first time (half of a signature's time); the PDF holds it hex-encoded (two digits a byte).
    certificates = sum(len(c.public_bytes(Encoding.DER)) for c in (credential.certificate, *credential.chain))
    return 2 * (certificates + 4096 + (12288 if timestamped else 0))


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
    page: int | None = None,
    box: tuple[int, int, int, int] | None = None,
    font_path: str | None = None,
) -> bytes:
    """Sign a PDF as an incremental update (PAdES-B-B, or B-T with a TSA) with a visible stamp.

    The stamp goes to `box` on `page` when given, else to blank paper found by signing.placement (on `page`, or
    the first page, else the last).
    """
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
        new_field_spec=_field_spec(writer, pdf, field_name, page, box),
    )
    output = io.BytesIO()
    try:
        run_blocking(
            pdf_signer.async_sign_pdf(
                writer,
                bytes_reserved=_reserved_hex_digits(credential, timestamped=bool(tsa_url)),
                appearance_text_params=params,
                output=output,
            )
        )
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
    page: int | None = None,
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
        new_field_spec=_field_spec(writer, pdf, field_name, page, box),
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
