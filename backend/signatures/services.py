"""Writes around signing: the university CA, signers' certificates, signing and annulling documents.

The cryptography is in the `signing` package; this module keeps records of it. A person's key is used only
as a `SigningKey` opened by `keyring.signing_key_open` with the passphrase typed in the same request (or
sealed for one batch, see batch.py); the server-wide key-encryption key opens only the university CA's keys.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import OrgUnit, User
from backend.accounts.positions import position_in
from backend.core.exceptions import ApplicationError, Conflict, ValidationFailed
from backend.core.files import file_written
from backend.documents.models import GeneratedDocument
from backend.workflow.history import history_record
from signing import keys, qr
from signing.cms import verify_detached
from signing.errors import CredentialError, PdfSigningError, RemoteSignatureError, WrongPasswordError
from signing.pades import RemoteSigningState, finish_remote_signature, prepare_remote_signature, sign_pdf
from signing.stamp import StampText

from .keyring import SigningKey, SigningUnavailable, kek, signing_certificate
from .models import Authority, PublishedDocument, Signature, SignerCertificate, TrustAnchor
from .problems import problem_code, problem_message

_kek = kek
__all__ = ["SigningKey", "SigningUnavailable", "signing_certificate"]


def organisation_name() -> str:
    """The university's name as its certificates and the e-seal carry it."""
    return _organisation()


def _organisation() -> str:
    root = OrgUnit.objects.filter(parent__isnull=True).first()
    return root.name_in("ru") if root else "University"


def _pem(certificate: x509.Certificate) -> str:
    return keys.certificate_to_pem(certificate).decode()


def _credential_of(certificate_pem: str, encrypted_key_pem: str, chain_pem: str = "") -> keys.Credential:
    chain = tuple(keys.load_trust_roots(chain_pem.encode())) if chain_pem else ()
    return keys.Credential(
        certificate=keys.certificate_from_pem(certificate_pem.encode()),
        private_key=keys.decrypt_private_key(pem=encrypted_key_pem.encode(), kek=_kek()),
        chain=chain,
    )


# --- the university CA ------------------------------------------------------------------------------------------


def _authority_store(kind: str, credential: keys.Credential) -> Authority:
    return Authority.objects.create(
        kind=kind,
        certificate_pem=_pem(credential.certificate),
        encrypted_key_pem=keys.encrypt_private_key(key=credential.private_key, kek=_kek()).decode(),
        fingerprint=keys.certificate_fingerprint(credential.certificate),
    )


@transaction.atomic
def pki_ensure() -> tuple[Authority, Authority]:
    """The university's root and issuing CA, created on first use."""
    root = Authority.objects.select_for_update().filter(kind=Authority.Kind.ROOT).first()
    organisation = _organisation()
    if root is None:
        root = _authority_store(
            Authority.Kind.ROOT, keys.generate_root_ca(common_name=f"{organisation} Root CA", organisation=organisation)
        )
    issuing = Authority.objects.filter(kind=Authority.Kind.ISSUING).first()
    if issuing is None:
        root_credential = _credential_of(root.certificate_pem, root.encrypted_key_pem)
        issuing = _authority_store(
            Authority.Kind.ISSUING,
            keys.generate_issuing_ca(
                issuer=root_credential, common_name=f"{organisation} Issuing CA", organisation=organisation
            ),
        )
    return root, issuing


@transaction.atomic
def system_credential() -> keys.Credential:
    """The university's own signing certificate (evidence manifests), issued by its CA on first use."""
    _root, issuing = pki_ensure()
    system = Authority.objects.select_for_update().filter(kind=Authority.Kind.SYSTEM).first()
    if system is None:
        organisation = _organisation()
        issuer = _credential_of(issuing.certificate_pem, issuing.encrypted_key_pem)
        system = _authority_store(
            Authority.Kind.SYSTEM,
            keys.issue_system_certificate(
                issuer=issuer, common_name=f"{organisation} Qujat", organisation=organisation
            ),
        )
    return _credential_of(system.certificate_pem, system.encrypted_key_pem, issuing.certificate_pem)


def trust_roots() -> list[x509.Certificate]:
    """Roots a signature must chain to: the university's own and every trusted root an administrator added."""
    pems = list(Authority.objects.filter(kind=Authority.Kind.ROOT).values_list("certificate_pem", flat=True))
    pems += list(TrustAnchor.objects.values_list("certificate_pem", flat=True))
    return [keys.certificate_from_pem(pem.encode()) for pem in pems]


@transaction.atomic
def trust_anchor_add(*, name: str, certificate_pem: bytes) -> TrustAnchor:
    try:
        roots = keys.load_trust_roots(certificate_pem)
    except ValueError as error:
        raise ValidationFailed(
            str(error), fields={"certificate": [_("Not a certificate in PEM or DER form.")]}
        ) from error
    root = roots[0]
    anchor, _created = TrustAnchor.objects.get_or_create(
        fingerprint=keys.certificate_fingerprint(root), defaults={"name": name, "certificate_pem": _pem(root)}
    )
    return anchor


# --- signers' certificates --------------------------------------------------------------------------------------


def _certificate_store(
    *,
    user: User,
    source: str,
    certificate: x509.Certificate,
    chain: tuple[x509.Certificate, ...],
    key: Any,
    is_seal: bool = False,
) -> SignerCertificate:
    """Keep a certificate; its key (if any) waits under the server's key until the holder's passphrase takes it."""
    info = keys.describe_certificate(certificate)
    try:
        with transaction.atomic():
            return SignerCertificate.objects.create(
                user=user,
                source=source,
                certificate_pem=_pem(certificate),
                chain_pem="".join(_pem(c) for c in chain),
                encrypted_key_pem=keys.encrypt_private_key(key=key, kek=_kek()).decode() if key is not None else "",
                fingerprint=info.fingerprint_sha256,
                subject=info.subject_common_name or "",
                issuer=info.issuer_common_name or "",
                iin=info.iin or "",
                sheet_text=info.sheet_text,
                is_seal=is_seal,
                not_before=info.not_before,
                not_after=info.not_after,
            )
    except IntegrityError:
        raise Conflict(_("This certificate is already registered.")) from None


@transaction.atomic
def signer_certificate_issue(*, user: User, position: str = "", valid_days: int = 730) -> SignerCertificate:
    """A certificate from the university's issuing CA; its key is usable once the holder's passphrase takes it."""
    return _issue(
        holder=user,
        name=user.full_name,
        position=position or user.position or _("employee"),
        email=user.email or None,
        valid_days=valid_days,
        seal=False,
    )


@transaction.atomic
def seal_certificate_issue(*, custodian: User, valid_days: int = 730) -> SignerCertificate:
    """The university's e-seal: the organisation's certificate from the university CA, kept by `custodian`.

    Its subject names the university, never a person (the custodian's IIN is kept as the subject's serial
    number, as NCA RK legal-entity certificates carry their holder's). Its key is held like a person's: usable
    only under the custodian's signing passphrase.
    """
    return _issue(
        holder=custodian, name=_organisation(), position="e-seal", email=None, valid_days=valid_days, seal=True
    )


def _issue(
    *, holder: User, name: str, position: str, email: str | None, valid_days: int, seal: bool
) -> SignerCertificate:
    if not holder.iin:
        raise ValidationFailed(
            _("The person needs an IIN before a certificate can be issued."), fields={"iin": [_("Enter the IIN.")]}
        )
    _root, issuing = pki_ensure()
    issuer = _credential_of(issuing.certificate_pem, issuing.encrypted_key_pem)
    credential = keys.issue_signer_certificate(
        issuer=issuer,
        full_name=name,
        position=position,
        organisation=_organisation(),
        iin=holder.iin,
        email=email,
        valid_days=valid_days,
    )
    return _certificate_store(
        user=holder,
        source=SignerCertificate.Source.ISSUED,
        certificate=credential.certificate,
        chain=(issuer.certificate,),
        key=credential.private_key,
        is_seal=seal,
    )


@transaction.atomic
def signer_certificate_import(*, user: User, p12: bytes, password: bytes | None) -> SignerCertificate:
    """A signer's own .p12 (as the national certification authority issues them); its IIN must be theirs."""
    try:
        credential = keys.load_pkcs12(data=p12, password=password)
    except WrongPasswordError:
        raise ValidationFailed(
            _("Wrong password for this file."), fields={"password": [_("Wrong password.")]}
        ) from None
    except CredentialError as error:
        raise ValidationFailed(str(error), fields={"file": [_("Not a readable PKCS#12 file.")]}) from error
    iin = keys.certificate_iin(credential.certificate)
    if user.iin and iin and iin != user.iin:
        raise ValidationFailed(
            _("The certificate belongs to another person (its IIN differs)."),
            fields={"file": [_("The IIN in the certificate is not this person's.")]},
        )
    return _certificate_store(
        user=user,
        source=SignerCertificate.Source.IMPORTED,
        certificate=credential.certificate,
        chain=credential.chain,
        key=credential.private_key,
    )


@transaction.atomic
def signer_certificate_revoke(*, certificate: SignerCertificate, reason: str, by: User) -> SignerCertificate:
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for revoking."), fields={"reason": [_("This field is required.")]})
    certificate = SignerCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is None:
        certificate.revoked_at = timezone.now()
        certificate.revocation_reason = f"{reason.strip()} ({by.username})"
        certificate.save(update_fields=["revoked_at", "revocation_reason"])
    return certificate


# --- publishing, signing, annulling -----------------------------------------------------------------------------


def public_name(*, last_name: str, first_name: str, patronymic: str = "") -> str:
    """Initials and surname only, as the public verification page shows a holder: "А.Б. Иванова"."""
    initials = "".join(f"{part[0]}." for part in (first_name, patronymic) if part)
    return f"{initials} {last_name}".strip()


@transaction.atomic
def document_publish(
    *, document: GeneratedDocument, holder: User | None, holder_public_name: str, verification_id: str | None = None
) -> PublishedDocument:
    """Give a document its verification id (once per document) so it can be signed and checked.

    Pass `verification_id` when the document itself prints its verification address (a transcript does):
    draw the id with signing.qr.new_verification_id() before rendering.
    """
    existing = PublishedDocument.objects.filter(document=document).first()
    if existing is not None:
        return existing
    return PublishedDocument.objects.create(
        document=document,
        verification_id=verification_id or qr.new_verification_id(),
        holder=holder,
        holder_public_name=holder_public_name,
    )


def verification_url(published: PublishedDocument, *, with_hash: bool = False) -> str:
    return address_of(published.verification_id, sha256=published.signed_sha256 if with_hash else None)


def address_of(verification_id: str, *, sha256: str | None = None) -> str:
    """The public address of a verification id (what the QR code carries)."""
    return qr.verification_url(site=settings.QUJAT_SITE_URL, verification_id=verification_id, sha256=sha256 or None)


def _signed_source(published: PublishedDocument) -> bytes:
    file = published.signed_pdf if published.signed_pdf else published.document.pdf
    with file.open("rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class _Sheet:
    """What the next signature on a published document carries, whichever way it is made."""

    published: PublishedDocument
    language: str
    shown_as: str  # the position on the stamp and in the record (or the e-seal's name)
    stamp: StampText
    field_name: str
    source: bytes
    qr_url: str | None


def _sheet(*, published: PublishedDocument, signer: User, language: str, position: str, seal: bool) -> _Sheet:
    published = PublishedDocument.objects.select_for_update().select_related("document").get(pk=published.pk)
    document = published.document
    if published.status != PublishedDocument.Status.VALID:
        raise Conflict(_("An annulled document cannot be signed."))
    if document.status != GeneratedDocument.Status.READY:
        raise Conflict(_("The document is not generated yet."))
    organisation = _organisation()
    language = language if language in ("kk", "ru", "en") else "ru"
    # Every line of the document in its one language, the stamp's position line included.
    position = position_in(position or signer.position, language)
    count = Signature.objects.filter(document=document, kind=Signature.Kind.PADES).count()
    return _Sheet(
        published=published,
        language=language,
        shown_as=seal_name(organisation, language) if seal else position,
        stamp=StampText.for_language(
            language=language,
            signer_name=seal_name(organisation, language) if seal else signer.full_name,
            position="" if seal else position,
            organisation=organisation,
        ),
        field_name=f"Signature{count + 1}",
        source=_signed_source(published),
        qr_url=None if published.signed_pdf else verification_url(published),
    )


def _signed_record(
    *, sheet: _Sheet, signer: User, certificate: SignerCertificate, signed: bytes, seal: bool, cms: bytes | None = None
) -> Signature:
    """Keep the newly signed PDF, the signature and its history event (in the caller's transaction)."""
    published, document = sheet.published, sheet.published.document
    now = timezone.now()
    sha256 = hashlib.sha256(signed).hexdigest()
    old = published.signed_pdf.name if published.signed_pdf else ""
    published.signed_pdf.save(f"{document.kind}-{published.verification_id}.pdf", ContentFile(signed), save=False)
    file_written(published.signed_pdf)  # deleted again if this transaction rolls back
    published.signed_sha256 = sha256
    published.issued_at = published.issued_at or now
    published.save(update_fields=["signed_pdf", "signed_sha256", "issued_at"])
    if old and old != published.signed_pdf.name:
        transaction.on_commit(lambda: published.signed_pdf.storage.delete(old))
    signature = Signature.objects.create(
        document=document,
        kind=Signature.Kind.PADES,
        signer=signer,
        certificate=certificate,
        certificate_fingerprint=certificate.fingerprint,
        position=sheet.shown_as,
        signed_at=now,
        document_sha256=hashlib.sha256(sheet.source).hexdigest(),
        field_name=sheet.field_name,
        cms=cms,
    )
    if document.instance is not None:
        history_record(
            instance=document.instance,
            kind="signed",
            actor=signer,
            payload={
                "document": document.pk,
                "kind": document.kind,
                "number": document.number,
                "certificate": certificate.fingerprint,
                "signed_sha256": sha256,
                "verification_id": published.verification_id,
                "e_seal": seal,
            },
        )
    return signature


@transaction.atomic
def document_sign(
    *,
    published: PublishedDocument,
    signer: User,
    key: SigningKey,
    language: str,
    position: str = "",
    reason: str = "",
    seal: bool = False,
) -> Signature:
    """Add the signer's PAdES signature (an incremental update; earlier signatures stay valid).

    `key` is the signer's own key opened with their passphrase in this request (keyring.signing_key_open);
    with `seal` it is the university's e-seal opened by its custodian, and the stamp names the university.
    """
    sheet = _sheet(published=published, signer=signer, language=language, position=position, seal=seal)
    if key.user_id != signer.pk or key.certificate.is_seal != seal:
        raise ValidationFailed(_("This key is not the signer's."), code="wrong_key", fields={"passphrase": []})
    certificate = SignerCertificate.objects.get(pk=key.certificate.pk)
    if certificate.revoked or certificate.not_after <= timezone.now():
        raise ValidationFailed(
            _("The signing certificate is revoked or expired."), code="no_certificate", fields={"passphrase": []}
        )
    try:
        # The stamp (and the QR code) go where a reader looks, on blank paper (signing.placement): the first
        # page's reserved area, else a blank place on the last page; never over text or an earlier stamp.
        signed = sign_pdf(
            pdf=sheet.source,
            credential=key.credential,
            stamp=sheet.stamp,
            field_name=sheet.field_name,
            reason=reason or None,
            location=settings.QUJAT_UNIVERSITY_CITY,
            tsa_url=settings.QUJAT_TSA_URL or None,
            qr_url=sheet.qr_url,
        )
    except PdfSigningError as error:
        raise ApplicationError(_("The document could not be signed: %(error)s") % {"error": error}) from error
    return _signed_record(sheet=sheet, signer=signer, certificate=certificate, signed=signed, seal=seal)


# A PDF prepared for a signature made in NCALayer waits here between the two requests (stamp placed, digest fixed).
REMOTE_TTL = timedelta(minutes=20)
_REMOTE_PREFIX = "qujat:remote-signature:"


@transaction.atomic
def document_sign_prepare(
    *, published: PublishedDocument, signer: User, language: str, position: str = "", reason: str = ""
) -> tuple[str, bytes]:
    """Place the signer's stamp in a copy of the PDF and return (token, the exact bytes NCALayer must sign)."""
    sheet = _sheet(published=published, signer=signer, language=language, position=position, seal=False)
    try:
        prepared = prepare_remote_signature(
            pdf=sheet.source,
            stamp=sheet.stamp,
            field_name=sheet.field_name,
            reason=reason or None,
            location=settings.QUJAT_UNIVERSITY_CITY,
            qr_url=sheet.qr_url,
        )
    except PdfSigningError as error:
        raise ApplicationError(_("The document could not be signed: %(error)s") % {"error": error}) from error
    token = secrets.token_urlsafe(24)
    entry = {
        "user": signer.pk,
        "published": sheet.published.pk,
        "source": hashlib.sha256(sheet.source).hexdigest(),
        "language": sheet.language,
        "position": position,
        "state": base64.b64encode(prepared.state.to_bytes()).decode("ascii"),
    }
    cache.set(_REMOTE_PREFIX + token, entry, timeout=int(REMOTE_TTL.total_seconds()))
    return token, prepared.state.signed_bytes()


@transaction.atomic
def document_sign_finish(*, published: PublishedDocument, signer: User, token: str, cms: str | bytes) -> Signature:
    """Check the CMS NCALayer made over the prepared bytes (as cms_signature_accept does) and embed it in the PDF."""
    entry = cache.get(_REMOTE_PREFIX + token)
    raw = cms.encode() if isinstance(cms, str) else cms
    if entry is None or entry["user"] != signer.pk or entry["published"] != published.pk:
        done = Signature.objects.filter(document_id=published.document_id, signer=signer, cms=raw).first()
        if done is not None:
            return done  # the same signature posted again: already in the PDF
        message = _("The signing session has expired; press the button again.")
        raise ValidationFailed(message, code="session_expired", fields={"cms": [message]})
    position = entry["position"]
    sheet = _sheet(published=published, signer=signer, language=entry["language"], position=position, seal=False)
    if hashlib.sha256(sheet.source).hexdigest() != entry["source"]:
        message = _("The document has been signed by someone else meanwhile; press the button again.")
        raise ValidationFailed(message, code="document_changed", fields={"cms": [message]})
    state = RemoteSigningState.from_bytes(base64.b64decode(entry["state"]))
    _verdict, certificate = _cms_checked(content=state.signed_bytes(), signer=signer, cms=cms)
    try:
        signed = finish_remote_signature(
            state=state, cms=cms, trust_roots=trust_roots(), expected_iin=signer.iin or None
        )
    except RemoteSignatureError as error:
        raise ValidationFailed(str(error), code="invalid_signature", fields={"cms": [str(error)]}) from error
    signature = _signed_record(sheet=sheet, signer=signer, certificate=certificate, signed=signed, seal=False, cms=raw)
    transaction.on_commit(lambda: cache.delete(_REMOTE_PREFIX + token))
    return signature


def seal_name(organisation: str, language: str) -> str:
    """How the e-seal is named on the stamp and the approval sheet: never a person's name."""
    from django.utils.translation import override

    with override(language if language in ("kk", "ru", "en") else "ru"):
        return _("e-seal of %(university)s") % {"university": organisation}


@transaction.atomic
def document_annul(*, published: PublishedDocument, reason: str, by: User) -> PublishedDocument:
    """An annulled document shows as annulled on its verification page from now on."""
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for annulling."), fields={"reason": [_("This field is required.")]})
    published = PublishedDocument.objects.select_for_update().select_related("document").get(pk=published.pk)
    if published.status == PublishedDocument.Status.ANNULLED:
        return published
    published.status = PublishedDocument.Status.ANNULLED
    published.annulled_at = timezone.now()
    published.annulment_reason = reason.strip()
    published.save(update_fields=["status", "annulled_at", "annulment_reason"])
    if published.document.instance is not None:
        history_record(
            instance=published.document.instance,
            kind="note",
            actor=by,
            payload={"event": "document_annulled", "document": published.document_id, "reason": reason.strip()},
        )
    return published


def _cms_checked(*, content: bytes, signer: User, cms: str | bytes) -> tuple[Any, SignerCertificate]:
    """The check of a CMS made on the signer's computer: content, chain, key usage, validity, IIN, whose key."""
    verdict = verify_detached(cms=cms, trust_roots=trust_roots(), content=content, expected_iin=signer.iin or None)
    if not verdict.valid or verdict.certificate is None:
        codes = [problem_code(problem) for problem in verdict.problems]
        raise ValidationFailed(
            _("The signature does not verify: %(problems)s") % {"problems": "; ".join(verdict.problems)},
            # An algorithm we cannot check is not a bad signature: the signer's task stays open for another key.
            code="unsupported_algorithm" if "unsupported_algorithm" in codes else "invalid_signature",
            fields={"cms": [problem_message(problem) for problem in verdict.problems] or [_("Invalid signature.")]},
        )
    fingerprint = keys.certificate_fingerprint(verdict.certificate)
    certificate = SignerCertificate.objects.filter(fingerprint=fingerprint).first()
    if certificate is None:
        certificate = _certificate_store(
            user=signer, source=SignerCertificate.Source.REGISTERED, certificate=verdict.certificate, chain=(), key=None
        )
    if certificate.user_id != signer.pk:
        raise ValidationFailed(
            _("The certificate is registered to someone else."), fields={"cms": [_("Wrong signer.")]}
        )
    if certificate.revoked:
        raise ValidationFailed(_("The certificate has been revoked."), fields={"cms": [_("Revoked certificate.")]})
    return verdict, certificate


@transaction.atomic
def cms_signature_accept(*, document: GeneratedDocument, signer: User, cms: str | bytes) -> Signature:
    """A signature made on the signer's own computer (NCALayer): checked, then recorded with its certificate."""
    with document.pdf.open("rb") as handle:
        content = handle.read()
    verdict, certificate = _cms_checked(content=content, signer=signer, cms=cms)
    raw = cms.encode() if isinstance(cms, str) else cms
    signed_at = verdict.signing_time or timezone.now()
    signature = Signature.objects.create(
        document=document,
        kind=Signature.Kind.CMS,
        signer=signer,
        certificate=certificate,
        certificate_fingerprint=certificate.fingerprint,
        position=signer.position,
        signed_at=signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC),
        document_sha256=hashlib.sha256(content).hexdigest(),
        cms=raw,
    )
    if document.instance is not None:
        history_record(
            instance=document.instance,
            kind="signed",
            actor=signer,
            payload={"document": document.pk, "kind": "cms", "certificate": certificate.fingerprint},
        )
    return signature
