"""Detached CMS (PKCS#7) signatures: making them, and verifying what NCALayer or OpenSSL produce."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from cryptography import x509
from pyhanko.sign.general import (
    CMSExtractionError,
    MultivaluedAttributeError,
    NonexistentAttributeError,
    SigningError,
    find_unique_cms_attribute,
)
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature, collect_timing_info
from pyhanko.sign.validation.status import StandardCMSSignatureStatus

from signing import gost as gost_2012
from signing.event_loop import run_blocking
from signing.keys import CertificateInfo, Credential, describe_certificate
from signing.signer import CredentialSigner
from signing.trust import (
    NO_PYHANKO_KEY_USAGE_CHECK,
    from_asn1,
    iin_problem,
    is_trusted,
    key_usage_problem,
    signing_time_of,
    trust_problem,
    validation_context,
    validity_problem,
)

GOST_OID_PREFIX = gost_2012.KAZAKH_GOST_PREFIX


@dataclass(frozen=True)
class CmsVerdict:
    """The outcome of verifying a detached CMS; ``problems`` holds "code: explanation" strings."""

    valid: bool
    signer: CertificateInfo | None
    certificate: x509.Certificate | None
    signing_time: dt.datetime | None
    signing_time_from_timestamp: bool
    intact: bool
    trusted: bool
    signed_content: str | None
    problems: tuple[str, ...]

    @property
    def problem_codes(self) -> tuple[str, ...]:
        """Just the machine-readable codes of ``problems``."""
        return tuple(problem.split(":", 1)[0] for problem in self.problems)


class CmsSigningError(RuntimeError):
    """A detached signature could not be made (the key, or the timestamp server)."""


def sign_detached(*, data: bytes, credential: Credential, tsa_url: str | None = None) -> bytes:
    """A detached DER CMS over ``data`` (SHA-256) with signing time, signer certificate and chain; with
    ``tsa_url``, an RFC 3161 signature timestamp from that server too."""
    try:
        content_info = run_blocking(
            CredentialSigner(credential).async_sign_general_data(
                data,
                "sha256",
                detached=True,
                timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None,
                signed_attr_settings=PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC)),
            )
        )
    except TimestampRequestError as exc:
        raise CmsSigningError(f"the timestamp server {tsa_url} did not answer: {exc}") from exc
    except SigningError as exc:
        raise CmsSigningError(f"could not sign: {exc}") from exc
    der: bytes = content_info.dump()
    return der


def decode_cms(cms: bytes | str) -> bytes:
    """DER bytes from DER, base64 (whitespace and newlines allowed) or PEM-armoured CMS."""
    if isinstance(cms, bytes) and cms[:1] == b"\x30":
        return cms
    try:
        text = cms.decode("ascii") if isinstance(cms, bytes) else cms
    except UnicodeDecodeError:
        raise ValueError("CMS is neither DER nor base64 text") from None
    # PEM armour ("-----BEGIN CMS-----", "PKCS7", "SIGNED MESSAGE") and its header lines go.
    lines = [line.strip() for line in text.strip().splitlines()]
    body = "".join(line for line in lines if line and not line.startswith("-----") and ":" not in line)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("CMS is neither DER nor valid base64") from None
    if not der:
        raise ValueError("CMS is empty")
    return der


def load_signed_data(der: bytes) -> Any:
    """Parse DER CMS into asn1crypto SignedData with exactly one signer; ValueError otherwise."""
    try:
        content_info = asn1_cms.ContentInfo.load(der, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise ValueError(f"CMS content type is {content_info['content_type'].native}, not signed_data")
        signed_data = content_info["content"]
        # Touch the parts we rely on now, so malformed structures fail here and not mid-validation.
        signer_infos = signed_data["signer_infos"]
        signed_data["certificates"].native  # noqa: B018
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a CMS SignedData structure: {exc}") from None
    if len(signer_infos) != 1:
        raise ValueError(f"CMS has {len(signer_infos)} signers; exactly one is supported")
    return signed_data


def _message_digest(signed_data: Any) -> bytes | None:
    signer_info = signed_data["signer_infos"][0]
    if signer_info["signed_attrs"] is asn1_core.VOID or not len(signer_info["signed_attrs"]):
        return None
    try:
        value: bytes = find_unique_cms_attribute(signer_info["signed_attrs"], "message_digest").native
    except (NonexistentAttributeError, MultivaluedAttributeError):
        return None
    return value


def _digest_algorithm(signed_data: Any) -> str:
    name: str = signed_data["signer_infos"][0]["digest_algorithm"]["algorithm"].native
    return name


def _hash(algorithm: str, data: bytes) -> bytes:
    # asn1crypto's digest names ("sha256", "sha3_256", ...) are hashlib's names.
    try:
        return hashlib.new(algorithm, data).digest()
    except ValueError:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}") from None


@dataclass(frozen=True)
class _Candidate:
    label: str
    content: bytes | None
    digest: bytes | None


def _document_sha256(content: bytes | None, content_sha256: bytes | None) -> bytes:
    if content_sha256 is not None:
        return content_sha256
    return hashlib.sha256(content or b"").digest()


def _candidates(
    content: bytes | None, content_sha256: bytes | None, algorithm: str, *, accept_hash_signing: bool
) -> list[_Candidate]:
    document_sha256 = _document_sha256(content, content_sha256)
    candidates = []
    if content is not None:
        candidates.append(_Candidate("document", content, _hash(algorithm, content)))
    elif algorithm == "sha256":
        candidates.append(_Candidate("document", None, document_sha256))
    if not accept_hash_signing:
        return candidates
    # NCALayer users sometimes sign the document's hash instead of the document: accept the raw
    # SHA-256 bytes and its hex spelling as the signed content.
    hex_lower = document_sha256.hex().encode("ascii")
    for label, signed in (
        ("sha256", document_sha256),
        ("sha256_hex", hex_lower),
        ("sha256_hex", hex_lower.upper()),
    ):
        candidates.append(_Candidate(label, signed, _hash(algorithm, signed)))
    return candidates


def _encapsulated(signed_data: Any) -> bytes | None:
    content = signed_data["encap_content_info"]["content"]
    if content is asn1_core.VOID or content is None:
        return None
    return bytes(content)


def _match(signed_data: Any, candidates: list[_Candidate], document_sha256: bytes) -> _Candidate | None:
    embedded = _encapsulated(signed_data)
    if embedded is not None:
        for candidate in candidates:
            if candidate.content is not None and candidate.content == embedded:
                return candidate
        document_expected = bool(candidates) and candidates[0].label == "document"
        if document_expected and hashlib.sha256(embedded).digest() == document_sha256:
            return _Candidate("document", embedded, None)
        return None
    expected = _message_digest(signed_data)
    return next((c for c in candidates if c.digest == expected), None)


async def _validate(signed_data: Any, candidate: _Candidate, context: Any) -> StandardCMSSignatureStatus:
    signer_info = signed_data["signer_infos"][0]
    encapsulated = _encapsulated(signed_data) is not None

    def content_digest(algorithm: str) -> bytes:
        # Only needed for content timestamps, which may use a different hash algorithm.
        if candidate.content is not None:
            return _hash(algorithm, candidate.content)
        return candidate.digest or b""

    timing = await collect_timing_info(signer_info, context, raw_digest=content_digest)
    status: StandardCMSSignatureStatus = await async_validate_cms_signature(
        signed_data,
        status_cls=StandardCMSSignatureStatus,
        raw_digest=None if encapsulated else candidate.digest,
        validation_context=context,
        status_kwargs=timing,
        key_usage_settings=NO_PYHANKO_KEY_USAGE_CHECK,
    )
    return status


async def _validate_best(
    signed_data: Any, candidates: list[_Candidate], document_sha256: bytes, context_factory: Callable[[], Any]
) -> tuple[_Candidate | None, StandardCMSSignatureStatus]:
    if _encapsulated(signed_data) is None and _message_digest(signed_data) is None:
        # Without signed attributes the signature covers the content digest directly, so the
        # only way to find out what was signed is to try each candidate.
        first_status = None
        for candidate in candidates:
            status = await _validate(signed_data, candidate, context_factory())
            if status.valid:
                return candidate, status
            first_status = first_status or status
        if first_status is None:
            raise ValueError("no content to check the signature against")
        return None, first_status
    matched = _match(signed_data, candidates, document_sha256)
    status = await _validate(signed_data, matched or candidates[0], context_factory())
    return matched, status


def _invalid(problem: str) -> CmsVerdict:
    return CmsVerdict(
        valid=False,
        signer=None,
        certificate=None,
        signing_time=None,
        signing_time_from_timestamp=False,
        intact=False,
        trusted=False,
        signed_content=None,
        problems=(problem,),
    )


def _evaluate(
    *,
    signed_data: Any,
    candidates: list[_Candidate],
    document_sha256: bytes,
    trust_roots: Sequence[x509.Certificate],
    expected_iin: str | None,
    crls: Sequence[x509.CertificateRevocationList],
    validation_time: dt.datetime | None,
) -> CmsVerdict:
    def context() -> Any:
        return validation_context(trust_roots=trust_roots, crls=crls, validation_time=validation_time)

    try:
        matched, status = run_blocking(_validate_best(signed_data, candidates, document_sha256, context))
    except (SignatureValidationError, CMSExtractionError, ValueError, AttributeError, TypeError) as exc:
        # Hostile or exotic CMS can fail deep inside pyHanko; the answer is "invalid", not a crash.
        return _invalid(f"malformed: {exc}")
    problems: list[str] = []
    certificate = from_asn1(status.signing_cert)
    intact = matched is not None and status.intact
    if not intact:
        problems.append("content_mismatch: the signature was made over different content")
    if not status.valid:
        problems.append("bad_signature: the signature value does not verify with the signer's certificate")
    trusted = is_trusted(status)
    signing_time, from_timestamp, timestamp_problem = signing_time_of(status)
    for problem in (
        # pyHanko only evaluates the chain of a cryptographically valid signature.
        trust_problem(status) if status.valid else None,
        timestamp_problem,
        key_usage_problem(certificate),
        validity_problem(certificate, signing_time=signing_time),
        iin_problem(certificate, expected_iin=expected_iin),
    ):
        if problem is not None:
            problems.append(problem)
    return CmsVerdict(
        valid=not problems and intact and trusted,
        signer=describe_certificate(certificate),
        certificate=certificate,
        signing_time=signing_time,
        signing_time_from_timestamp=from_timestamp,
        intact=intact,
        trusted=trusted,
        signed_content=matched.label if intact and matched is not None else None,
        problems=tuple(problems),
    )


def _gost_verdict(
    signed_data: Any,
    *,
    content: bytes | None,
    document_sha256: bytes,
    trust_roots: Sequence[x509.Certificate],
    expected_iin: str | None,
    validation_time: dt.datetime | None,
    accept_hash_signing: bool,
) -> CmsVerdict:
    candidates: list[tuple[str, bytes]] = []
    if content is not None:
        candidates.append(("document", content))
    if accept_hash_signing:
        hex_lower = document_sha256.hex().encode("ascii")
        candidates += [("sha256", document_sha256), ("sha256_hex", hex_lower), ("sha256_hex", hex_lower.upper())]
    if not candidates:
        return _invalid("content_mismatch: a GOST CMS digests with Streebog; pass the document itself")
    try:
        outcome = gost_2012.verify_signed_data(
            signed_data,
            candidates=candidates,
            trust_roots=trust_roots,
            expected_iin=expected_iin,
            validation_time=validation_time,
        )
    except (ValueError, TypeError, KeyError) as exc:
        return _invalid(f"malformed: {exc}")
    certificate = outcome.certificate
    return CmsVerdict(
        valid=not outcome.problems and outcome.intact and outcome.trusted,
        signer=describe_certificate(certificate) if certificate is not None else None,
        certificate=certificate,
        signing_time=outcome.signing_time,
        signing_time_from_timestamp=False,
        intact=outcome.intact,
        trusted=outcome.trusted,
        signed_content=outcome.signed_content,
        problems=outcome.problems,
    )


def verify_detached(
    *,
    cms: bytes | str,
    trust_roots: Sequence[x509.Certificate],
    content: bytes | None = None,
    content_sha256: bytes | None = None,
    expected_iin: str | None = None,
    crls: Sequence[x509.CertificateRevocationList] = (),
    validation_time: dt.datetime | None = None,
    accept_hash_signing: bool = True,
) -> CmsVerdict:
    """Verify a detached (or attached) CMS over a document, or over the document's SHA-256."""
    if content is None and content_sha256 is None:
        raise ValueError("pass the signed document as content or its digest as content_sha256")
    if content_sha256 is not None and len(content_sha256) != 32:
        raise ValueError("content_sha256 must be the 32-byte SHA-256 digest")
    document_sha256 = _document_sha256(content, content_sha256)
    if content is not None and hashlib.sha256(content).digest() != document_sha256:
        raise ValueError("content and content_sha256 describe different documents")
    try:
        signed_data = load_signed_data(decode_cms(cms))
        gost = gost_2012.kazakh_gost_problem(signed_data)
        if gost is not None:
            return _invalid(gost)
        if gost_2012.is_gost_2012(signed_data):
            return _gost_verdict(
                signed_data,
                content=content,
                document_sha256=document_sha256,
                trust_roots=trust_roots,
                expected_iin=expected_iin,
                validation_time=validation_time,
                accept_hash_signing=accept_hash_signing,
            )
        algorithm = _digest_algorithm(signed_data)
        candidates = _candidates(content, content_sha256, algorithm, accept_hash_signing=accept_hash_signing)
    except (ValueError, AttributeError) as exc:
        return _invalid(f"malformed: {exc}")
    if not candidates:
        return _invalid(
            f"content_mismatch: the CMS digests with {algorithm}; pass the document itself, not its SHA-256"
        )
    return _evaluate(
        signed_data=signed_data,
        candidates=candidates,
        document_sha256=document_sha256,
        trust_roots=trust_roots,
        expected_iin=expected_iin,
        crls=crls,
        validation_time=validation_time,
    )
