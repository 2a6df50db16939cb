"""What the product itself signs with the university's system certificate (history checkpoints).

The certificate is `services.system_credential()`: one `Authority` row of kind "system", its key encrypted
with `QUJAT_KEY_ENCRYPTION_KEY`, issued on first use by the university's issuing CA.
"""

from __future__ import annotations

from django.conf import settings

from signing.cms import sign_detached, verify_detached

from .services import system_credential, trust_roots


def system_sign(data: bytes) -> bytes:
    """A detached CMS over `data` by the system certificate (RFC 3161 timestamp when QUJAT_TSA_URL is set)."""
    return sign_detached(data=data, credential=system_credential(), tsa_url=settings.QUJAT_TSA_URL or None)


def system_verify(data: bytes, cms: bytes) -> str:
    """ "" when `cms` is a valid signature over `data` chaining to a trusted root; otherwise what is wrong."""
    verdict = verify_detached(cms=cms, content=data, trust_roots=trust_roots())
    return "" if verdict.valid else "; ".join(verdict.problems) or "invalid"
