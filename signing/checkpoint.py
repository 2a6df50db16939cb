"""The organisation's system certificate and the detached CMS it signs history checkpoints with.

A checkpoint is a statement made by the university's system, not by a person: its certificate names the
organisation (no IIN) and is issued by the university's issuing CA like a person's. The CMS is detached,
SHA-256, with the signing time and the chain; with a TSA it carries an RFC 3161 signature timestamp too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from signing.cms import CmsVerdict, verify_detached
from signing.event_loop import run_blocking
from signing.keys import (
    Credential,
)
from signing.pades import _CredentialSigner


class CheckpointSigningError(RuntimeError):
    """The checkpoint could not be signed (the key, or the timestamp server)."""


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
