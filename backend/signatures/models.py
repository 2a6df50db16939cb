"""Certificates of the university's CA and of signers, signatures made, and documents published for checking.

A person's private key is stored wrapped under a key derived from their own signing passphrase, inside a layer
under the server's key-encryption key (signing/vault.py); only the university CA's keys are server-held.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.documents.models import GeneratedDocument


class Authority(models.Model):
    """The university's own certification authority: a root and the issuing CA below it."""

    class Kind(models.TextChoices):
        ROOT = "root", _("root CA")
        ISSUING = "issuing", _("issuing CA")
        SYSTEM = "system", _("the university's system certificate")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, unique=True)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    encrypted_key_pem = models.TextField(_("private key (encrypted PKCS#8)"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("certification authority")
        verbose_name_plural = _("certification authorities")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.fingerprint[:16]}"


class TrustAnchor(models.Model):
    """A root trusted when checking signatures, e.g. the national certification authority (НУЦ РК)."""

    name = models.CharField(_("name"), max_length=255)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("trusted root")
        verbose_name_plural = _("trusted roots")

    def __str__(self) -> str:
        return self.name


class SignerCertificate(models.Model):
    """A person's signing certificate; with a stored (encrypted) key the server can sign on their behalf."""

    class Source(models.TextChoices):
        ISSUED = "issued", _("issued by the university CA")
        IMPORTED = "imported", _("imported from a PKCS#12 file")
        REGISTERED = "registered", _("registered for signing on the signer's computer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT, related_name="certificates"
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    chain_pem = models.TextField(_("issuer chain (PEM)"), blank=True)
    # A key the holder has not yet taken under their passphrase (issued by an administrator, or stored before
    # passphrases existed): encrypted PKCS#8 under the server's KEK, never used to sign; the holder's next
    # passphrase entry moves it into `wrapped_key` and empties this.
    encrypted_key_pem = models.TextField(_("private key awaiting the holder's passphrase"), blank=True)
    wrapped_key = models.TextField(_("private key under the holder's passphrase"), blank=True)
    # The university's e-seal: the organisation's certificate, its key under the seal custodian's passphrase.
    is_seal = models.BooleanField(_("the university's e-seal"), default=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    iin = models.CharField(_("IIN"), max_length=12, blank=True)
    sheet_text = models.CharField(_("text on the approval sheet"), max_length=1000)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid to"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(_("revocation reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signer certificate")
        verbose_name_plural = _("signer certificates")
        ordering = ["-not_after"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint[:12]})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def has_key(self) -> bool:
        return bool(self.wrapped_key or self.encrypted_key_pem)


class SigningPassphrase(models.Model):
    """A person's signing passphrase: how it becomes a key (the derivation's salt and cost) and a check value of it.

    The passphrase itself is never stored. Wrong entries are counted; after MAX_FAILURES signing is locked
    for a while.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="signing_passphrase"
    )
    kdf = models.TextField(_("key derivation parameters"))
    check_value = models.CharField(_("check value"), max_length=64)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong entries in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    changed_at = models.DateTimeField(_("set or changed at"))

    class Meta:
        verbose_name = _("signing passphrase")
        verbose_name_plural = _("signing passphrases")

    def __str__(self) -> str:
        return str(self.user)


class PublishedDocument(models.Model):
    """A signed document anyone can check at /v/<verification id>; the id is random and says nothing."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        ANNULLED = "annulled", _("annulled")

    document = models.OneToOneField(
        GeneratedDocument, verbose_name=_("document"), on_delete=models.PROTECT, related_name="publication"
    )
    verification_id = models.CharField(_("verification id"), max_length=32, unique=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_documents",
    )
    holder_public_name = models.CharField(_("holder as shown publicly"), max_length=200)
    signed_pdf = models.FileField(_("signed PDF"), upload_to="signed/%Y/%m/", blank=True, max_length=255)
    signed_sha256 = models.CharField(_("SHA-256 of the signed PDF"), max_length=64, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.VALID)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    annulled_at = models.DateTimeField(_("annulled at"), null=True, blank=True)
    annulment_reason = models.CharField(_("annulment reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("published document")
        verbose_name_plural = _("published documents")
        constraints = [
            models.CheckConstraint(condition=Q(status="valid") | Q(annulled_at__isnull=False), name="annulled_has_time")
        ]

    def __str__(self) -> str:
        return f"{self.document} [{self.verification_id}]"


class Signature(models.Model):
    """One act of signing: who, with which certificate, when, over which bytes."""

    class Kind(models.TextChoices):
        PADES = "pades", _("PAdES signature in the PDF")
        CMS = "cms", _("detached CMS (e.g. from NCALayer)")

    document = models.ForeignKey(GeneratedDocument, on_delete=models.PROTECT, related_name="signatures")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    certificate = models.ForeignKey(SignerCertificate, on_delete=models.PROTECT, related_name="signatures")
    certificate_fingerprint = models.CharField(_("certificate fingerprint"), max_length=64)
    position = models.CharField(_("position"), max_length=255, blank=True)
    signed_at = models.DateTimeField(_("signed at"))
    document_sha256 = models.CharField(_("SHA-256 of what was signed"), max_length=64)
    field_name = models.CharField(_("signature field"), max_length=100, blank=True)
    cms = models.BinaryField(_("CMS"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.signer} {self.signed_at:%Y-%m-%d %H:%M}"
