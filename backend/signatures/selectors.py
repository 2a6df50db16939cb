"""Reads for checking a document: what the public verification page shows and what an upload proves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import user_has_role
from signing import qr
from signing.verify import verify_pdf

from .models import Authority, PublishedDocument, Signature
from .services import trust_roots

STAFF_ROLES = (Role.REGISTRAR_STAFF, Role.REGISTRAR_HEAD, Role.REGISTRAR_INSPECTOR, Role.AUDITOR)


@dataclass(frozen=True)
class SignerLine:
    name: str
    position: str
    signed_at: datetime
    kind: str
    revoked: bool
    certificate: str


@dataclass(frozen=True)
class Verification:
    published: PublishedDocument
    status: str  # valid, revoked, annulled
    signers: list[SignerLine]


def published_by_id(verification_id: str) -> PublishedDocument | None:
    """The published document, or None for an unknown or malformed id (the page answers 404 either way)."""
    if not qr.is_valid_verification_id(verification_id):
        return None
    return (
        PublishedDocument.objects.select_related("document", "holder")
        .filter(verification_id=verification_id, issued_at__isnull=False)
        .first()
    )


def verification(published: PublishedDocument) -> Verification:
    signatures = list(
        Signature.objects.filter(document=published.document)
        .select_related("signer", "certificate")
        .order_by("signed_at")
    )
    signers = [
        SignerLine(
            name=s.signer.full_name,
            position=s.position,
            signed_at=s.signed_at,
            kind=s.kind,
            revoked=s.certificate.revoked,
            certificate=s.certificate.sheet_text,
        )
        for s in signatures
    ]
    if published.status == PublishedDocument.Status.ANNULLED:
        status = "annulled"
    elif any(line.revoked for line in signers):
        status = "revoked"
    else:
        status = "valid"
    return Verification(published=published, status=status, signers=signers)


@dataclass(frozen=True)
class UploadCheck:
    exact: bool
    signatures_valid: bool
    status: str
    problems: tuple[str, ...]

    @property
    def genuine(self) -> bool:
        return self.exact and self.signatures_valid and self.status == "valid"


def check_upload(published: PublishedDocument, pdf: bytes) -> UploadCheck:
    """Is this exactly the issued file, and is it still validly signed?"""
    exact = hashlib.sha256(pdf).hexdigest() == published.signed_sha256
    verdict = verify_pdf(pdf=pdf, trust_roots=trust_roots())
    problems = tuple(verdict.problems) + tuple(p for s in verdict.signatures for p in s.problems)
    return UploadCheck(
        exact=exact, signatures_valid=verdict.valid, status=verification(published).status, problems=problems
    )


def may_download(published: PublishedDocument, user: User) -> bool:
    """The signed PDF itself goes only to its holder and to the Registrar office."""
    if not user.is_authenticated:
        return False
    return published.holder_id == user.pk or user.is_superuser or user_has_role(user, *STAFF_ROLES)


@dataclass(frozen=True)
class RootCertificate:
    """The university's root certificate as a reader downloads it to trust the documents' signatures."""

    pem: str
    fingerprint: str  # SHA-256 of the DER, upper-case hex in pairs, as Adobe Reader and Firefox show it


def university_root() -> RootCertificate | None:
    root = Authority.objects.filter(kind=Authority.Kind.ROOT).first()
    if root is None:
        return None
    fingerprint = root.fingerprint.upper()
    return RootCertificate(
        pem=root.certificate_pem, fingerprint=":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2))
    )
