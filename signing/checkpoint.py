"""The organisation's system certificate and the detached CMS it signs history checkpoints with.

A checkpoint is a statement made by the university's system, not by a person: its certificate names the
organisation (no IIN) and is issued by the university's issuing CA like a person's. The CMS is detached,
SHA-256, with the signing time and the chain; with a TSA it carries an RFC 3161 signature timestamp too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from signing.cms import CmsVerdict, verify_detached
from signing.event_loop import run_blocking
from signing.keys import (
    DEFAULT_KEY_ALGORITHM,
    DOCUMENT_SIGNING_EKU,
    Credential,
    _aki,
    _chain_below,
    _new_private_key,
    _ski,
    _validity,
)
from signing.pades import _CredentialSigner


class CheckpointSigningError(RuntimeError):
    """The checkpoint could not be signed (the key, or the timestamp server)."""


def issue_system_certificate(
    *, issuer: Credential, organisation: str, common_name: str, valid_days: int = 1825, country: str = "KZ"
) -> Credential:
    """A signing certificate for the organisation's own system (checkpoints, seals), under ``issuer``."""
    if not common_name.strip() or not organisation.strip():
        raise ValueError("the system certificate needs a name and an organisation")
    key = _new_private_key(DEFAULT_KEY_ALGORITHM)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start, end = _validity(valid_days, None)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(end, issuer.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_EKU]), critical=False
        )
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .sign(issuer.private_key, hashes.SHA256())
    )
    return Credential(certificate=certificate, private_key=key, chain=_chain_below(issuer))


def sign_checkpoint(*, data: bytes, credential: Credential, tsa_url: str | None = None) -> bytes:
    """A detached DER CMS over ``data`` (SHA-256), timestamped by the TSA at ``tsa_url`` when given."""
    signer = _CredentialSigner(credential)
    try:
        content_info = run_blocking(
            signer.async_sign_general_data(
                data, "sha256", detached=True, timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None
            )
        )
    except TimestampRequestError as exc:
        raise CheckpointSigningError(f"the timestamp server {tsa_url} did not answer: {exc}") from exc
    except SigningError as exc:
        raise CheckpointSigningError(f"could not sign the checkpoint: {exc}") from exc
    der: bytes = content_info.dump()
    return der


def verify_checkpoint(
    *, data: bytes, cms: bytes, trust_roots: Sequence[x509.Certificate], validation_time: dt.datetime | None = None
) -> CmsVerdict:
    """Whether ``cms`` is a valid signature over exactly ``data`` by a certificate that chains to a root."""
    return verify_detached(cms=cms, content=data, trust_roots=trust_roots, validation_time=validation_time)
