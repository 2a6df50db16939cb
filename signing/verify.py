"""Verifying signed PDFs with pyHanko, including its analysis of what changed after each signature."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.general import CMSExtractionError
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from signing.event_loop import run_blocking
from signing.keys import CertificateInfo, describe_certificate
from signing.trust import (
    NO_PYHANKO_KEY_USAGE_CHECK,
    from_asn1,
    is_trusted,
    key_usage_problem,
    signing_time_of,
    trust_problem,
    validation_context,
    validity_problem,
)

# Updates after a signature that leave it valid: none at all, validation data (DSS, document
# timestamps) and form filling, which is how a later signer's field and stamp are classified.
# Annotations are not allowed: a comment box can hide a grade as well as page content can.
_ACCEPTED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)


# What a damaged or hostile file makes pyHanko raise. Exotic input (unknown algorithms, odd
# object types, features pyHanko does not implement) can also surface as AttributeError,
# TypeError or RuntimeError deep inside it; a verifier must answer "invalid" for any file
# rather than crash the page that asked.
_UNREADABLE = (
    PdfReadError,
    SignatureValidationError,
    CMSExtractionError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    RuntimeError,
)


@dataclass(frozen=True)
class SignatureVerdict:
    """The verdict on one signature in a PDF; ``problems`` holds "code: explanation" strings.

    ``changed_after_signing`` is True when an incremental update after this signature changed
    the document beyond adding signatures and validation data (e.g. drew on a page).
    """

    field_name: str
    signer: CertificateInfo | None
    certificate: x509.Certificate | None
    signing_time: dt.datetime | None
    signing_time_from_timestamp: bool
    intact: bool
    trusted: bool
    coverage: str
    modification_level: str | None
    changed_after_signing: bool
    valid: bool
    reason: str | None
    problems: tuple[str, ...]

    @property
    def problem_codes(self) -> tuple[str, ...]:
        """Just the machine-readable codes of ``problems``."""
        return tuple(problem.split(":", 1)[0] for problem in self.problems)


@dataclass(frozen=True)
class PdfVerdict:
    """All signatures of a PDF in signing order; valid only if there is one and all are valid."""

    signatures: tuple[SignatureVerdict, ...]
    valid: bool
    sha256: str
    problems: tuple[str, ...] = ()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _changes(status: PdfSignatureStatus) -> tuple[bool, str | None]:
    coverage = status.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return False, None
    if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return True, "modified_after_signing: the signature does not cover a complete revision of the file"
    diff = status.diff_result
    if isinstance(diff, SuspiciousModification):
        # pyHanko's explanation runs over several lines listing object numbers; the first says what.
        first_line = str(diff).strip().splitlines()[0] if str(diff).strip() else "unexplained changes"
        return True, f"modified_after_signing: a later update changed the document ({first_line})"
    level = status.modification_level
    if level is None:
        return True, "modified_after_signing: later updates could not be analysed"
    if level not in _ACCEPTED_LEVELS:
        return True, f"modified_after_signing: a later update made changes of kind {level.name.lower()}"
    if status.docmdp_ok is False:
        return True, "modified_after_signing: a later update breaks the document's modification policy"
    return False, None


def _verdict(embedded: Any, status: PdfSignatureStatus) -> SignatureVerdict:
    certificate = from_asn1(status.signing_cert)
    problems: list[str] = []
    intact = bool(status.intact and status.valid)
    if not status.intact:
        problems.append("not_intact: the signed bytes of the document were changed")
    if not status.valid:
        problems.append("bad_signature: the signature value does not verify with the signer's certificate")
    changed, change_problem = _changes(status)
    trusted = is_trusted(status)
    signing_time, from_timestamp, timestamp_problem = signing_time_of(status)
    for problem in (
        change_problem,
        # pyHanko only evaluates the chain of a cryptographically valid signature.
        trust_problem(status) if status.valid else None,
        timestamp_problem,
        key_usage_problem(certificate),
        validity_problem(certificate, signing_time=signing_time),
    ):
        if problem is not None:
            problems.append(problem)
    level = status.modification_level
    return SignatureVerdict(
        field_name=str(embedded.field_name),
        signer=describe_certificate(certificate),
        certificate=certificate,
        signing_time=signing_time,
        signing_time_from_timestamp=from_timestamp,
        intact=intact,
        trusted=trusted,
        coverage=status.coverage.name.lower() if status.coverage is not None else "unclear",
        modification_level=level.name.lower() if level is not None else None,
        changed_after_signing=changed,
        valid=not problems,
        reason=_text(embedded.sig_object.get("/Reason")),
        problems=tuple(problems),
    )


def _broken(embedded: Any, problem: str) -> SignatureVerdict:
    return SignatureVerdict(
        field_name=str(embedded.field_name),
        signer=None,
        certificate=None,
        signing_time=None,
        signing_time_from_timestamp=False,
        intact=False,
        trusted=False,
        coverage="unclear",
        modification_level=None,
        changed_after_signing=False,
        valid=False,
        reason=None,
        problems=(problem,),
    )


async def _verify_all(
    embedded_signatures: Sequence[Any],
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    validation_time: dt.datetime | None,
) -> list[SignatureVerdict]:
    verdicts = []
    for embedded in embedded_signatures:
        context = validation_context(trust_roots=trust_roots, crls=crls, validation_time=validation_time)
        try:
            status = await async_validate_pdf_signature(
                embedded,
                signer_validation_context=context,
                key_usage_settings=NO_PYHANKO_KEY_USAGE_CHECK,
            )
            verdicts.append(_verdict(embedded, status))
        except _UNREADABLE as exc:
            verdicts.append(_broken(embedded, f"malformed: {type(exc).__name__}: {exc}"))
    return verdicts


def verify_pdf(
    *,
    pdf: bytes,
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList] = (),
    validation_time: dt.datetime | None = None,
) -> PdfVerdict:
    """Verify every signature in a PDF against the trust roots; unsigned PDFs are not valid."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        # Strict parsing: pyHanko then refuses hybrid-reference files, a known way to show
        # different content to different readers.
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        embedded_signatures = list(reader.embedded_regular_signatures)
    except _UNREADABLE as exc:
        problem = f"unreadable_pdf: {type(exc).__name__}: {exc}"
        return PdfVerdict(signatures=(), valid=False, sha256=sha256, problems=(problem,))
    signatures = run_blocking(_verify_all(embedded_signatures, trust_roots, crls, validation_time))
    problems = () if signatures else ("unsigned: the document carries no signature",)
    return PdfVerdict(
        signatures=tuple(signatures),
        valid=bool(signatures) and all(signature.valid for signature in signatures),
        sha256=sha256,
        problems=problems,
    )
