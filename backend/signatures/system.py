"""The university's system certificate: what the product itself signs with (history checkpoints).

Kept like the CAs: one `Authority` row of kind "system", its key encrypted with `QUJAT_KEY_ENCRYPTION_KEY`,
issued on first use by the university's issuing CA.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from signing.checkpoint import issue_system_certificate, sign_checkpoint, verify_checkpoint

from .models import Authority
from .services import _authority_store, _credential_of, _organisation, pki_ensure, trust_roots


@transaction.atomic
def system_authority() -> Authority:
    """The system certificate's row, issued (once) under the university's issuing CA."""
    _root, issuing = pki_ensure()
    system = Authority.objects.select_for_update().filter(kind=Authority.Kind.SYSTEM).first()
    if system is None:
        organisation = _organisation()
        credential = issue_system_certificate(
            issuer=_credential_of(issuing.certificate_pem, issuing.encrypted_key_pem, _root.certificate_pem),
            organisation=organisation,
            common_name=f"{organisation} — Qujat",
        )
        system = _authority_store(Authority.Kind.SYSTEM, credential)
    return system


def system_sign(data: bytes) -> bytes:
    """A detached CMS over `data` by the system certificate (RFC 3161 timestamp when QUJAT_TSA_URL is set)."""
    system = system_authority()
    _root, issuing = pki_ensure()
    credential = _credential_of(system.certificate_pem, system.encrypted_key_pem, issuing.certificate_pem)
    return sign_checkpoint(data=data, credential=credential, tsa_url=settings.QUJAT_TSA_URL or None)


def system_verify(data: bytes, cms: bytes) -> str:
    """ "" when `cms` is a valid signature over `data` chaining to a trusted root; otherwise what is wrong."""
    verdict = verify_checkpoint(data=data, cms=cms, trust_roots=trust_roots())
    return "" if verdict.valid else "; ".join(verdict.problems) or "invalid"
