"""Trust decisions shared by CMS and PDF verification: validation contexts and certificate checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from signing.keys import certificate_iin

# pyHanko's own key-usage check would report a wrong key usage as an untrusted chain; we pass
# an empty requirement and check key usage ourselves, so the verdict names the real problem.
NO_PYHANKO_KEY_USAGE_CHECK = KeyUsageConstraints(key_usage=set())


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as an asn1crypto object (what pyHanko works with)."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def from_asn1(cert: Any) -> x509.Certificate:
    """The same certificate as a cryptography object."""
    return x509.load_der_x509_certificate(cert.dump())


def validation_context(
    *,
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList] = (),
    validation_time: dt.datetime | None = None,
) -> ValidationContext:
    """A pyHanko validation context that trusts exactly the given roots and never goes online."""
    if validation_time is not None and validation_time.tzinfo is None:
        raise ValueError("validation_time must be timezone-aware")
    return ValidationContext(
        # An explicit (possibly empty) list: None would fall back to the OS TLS trust store.
        trust_roots=[to_asn1(root) for root in trust_roots],
        allow_fetching=False,
        # Revocation is checked against the CRLs the caller supplies; without them the check is
        # skipped rather than failed, since we cannot fetch CRLs or OCSP offline.
        crls=[crl.public_bytes(serialization.Encoding.DER) for crl in crls] or None,
        revocation_mode="soft-fail",
        moment=validation_time,
    )


def key_usage_problem(cert: x509.Certificate) -> str | None:
    """A problem text unless the certificate allows digitalSignature or nonRepudiation."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        # RFC 5280: without the extension the key is not restricted.
        return None
    if usage.digital_signature or usage.content_commitment:
        return None
    return "bad_key_usage: the certificate allows neither digitalSignature nor nonRepudiation"


def validity_problem(cert: x509.Certificate, *, signing_time: dt.datetime | None) -> str | None:
    """A problem text if the signing time lies outside the certificate's validity period."""
    if signing_time is None:
        return None
    if signing_time < cert.not_valid_before_utc:
        return f"not_yet_valid_at_signing: signed {signing_time.isoformat()}, certificate valid from " + (
            cert.not_valid_before_utc.isoformat()
        )
    if signing_time > cert.not_valid_after_utc:
        return f"expired_at_signing: signed {signing_time.isoformat()}, certificate expired " + (
            cert.not_valid_after_utc.isoformat()
        )
    return None


def iin_problem(cert: x509.Certificate, *, expected_iin: str | None) -> str | None:
    """A problem text if an IIN is expected and the certificate carries a different one (or none)."""
    if expected_iin is None:
        return None
    actual = certificate_iin(cert)
    if actual is None:
        return "iin_mismatch: the certificate carries no IIN"
    if actual != expected_iin:
        return f"iin_mismatch: the certificate belongs to IIN {actual}, expected {expected_iin}"
    return None


def trust_problem(status: Any) -> str | None:
    """A problem text describing why pyHanko did not trust the signer's chain, or None if it did."""
    if status.revocation_details is not None:
        details = status.revocation_details
        whose = "a CA certificate in the chain" if details.ca_revoked else "the signer's certificate"
        return f"revoked: {whose} was revoked on {details.revocation_date.isoformat()}"
    indication = status.trust_problem_indic
    if indication is None and status.validation_path is not None:
        return None
    if indication in (AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, None):
        return "untrusted: the certificate does not chain to a trusted root"
    out_of_validity = _out_of_validity(status)
    if out_of_validity is not None:
        return f"untrusted: {out_of_validity}"
    return f"untrusted: chain validation failed ({indication.name.lower()})"


def _out_of_validity(status: Any) -> str | None:
    # pyHanko reports an expired or not-yet-valid CA certificate only as a general chain
    # failure; the path it tried tells us which certificate it was.
    moment = status.validation_time
    path = status.validation_path
    if moment is None or path is None:
        return None
    for asn1_cert in path.iter_certs(include_root=True):
        cert = from_asn1(asn1_cert)
        name = cert.subject.rfc4514_string()
        if moment > cert.not_valid_after_utc:
            return f"certificate {name} expired {cert.not_valid_after_utc.isoformat()} (validation time)"
        if moment < cert.not_valid_before_utc:
            return f"certificate {name} is not valid before {cert.not_valid_before_utc.isoformat()}"
    return None


def is_trusted(status: Any) -> bool:
    """Whether pyHanko built a valid path from the signer to a trust root (ignoring content match)."""
    return bool(
        status.valid
        and status.trust_problem_indic is None
        and status.validation_path is not None
        and status.revocation_details is None
    )


def signing_time_of(status: Any) -> tuple[dt.datetime | None, bool, str | None]:
    """Signing time, whether a trusted timestamp token vouches for it, and a problem if it is broken."""
    token = status.timestamp_validity
    if token is None:
        return status.signer_reported_dt, False, None
    if token.intact and token.valid and token.trusted:
        return token.timestamp, True, None
    problem = "timestamp_invalid: the signature timestamp token is broken or its TSA is not trusted"
    return status.signer_reported_dt, False, problem
