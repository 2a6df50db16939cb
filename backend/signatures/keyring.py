"""Signers' keys under their own passphrase: setting and changing it, unlocking a key for one request, lockout.

The server cannot sign with a person's key on its own: the key is wrapped under a key derived (Argon2id) from the
holder's signing passphrase, inside an outer layer under the server's key-encryption key (signing/vault.py).
`signing_key_open` is the only way to a person's usable key, and it needs the passphrase typed in the request.

Wrong passphrases are counted in a transaction of their own (the count survives the refusal); after
MAX_FAILURES in a row signing is locked for LOCK_FOR. A key issued by an administrator (or stored before
passphrases existed) waits under the server's key only, unusable, until its holder next enters the passphrase:
then it is taken under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, ValidationFailed
from signing import keys, vault
from signing.errors import CredentialError, WrongPasswordError

from .models import SignerCertificate, SigningPassphrase

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_LENGTH = 8


class SigningUnavailable(ApplicationError):
    status_code = 503
    default_code = "signing_unavailable"


def kek() -> bytes:
    value = settings.QUJAT_KEY_ENCRYPTION_KEY
    if len(value) < 32:
        raise SigningUnavailable(_("Signing is not configured: set QUJAT_KEY_ENCRYPTION_KEY (32+ characters)."))
    return value.encode()


def label_of(certificate: SignerCertificate) -> str:
    """What a wrapped key is bound to: its certificate and holder (a key copied to another row does not open)."""
    return f"{certificate.fingerprint}:{certificate.user_id}"


@dataclass(frozen=True)
class SigningKey:
    """A signer's key opened for this request (or one batch item) by their passphrase; never stored."""

    user_id: int
    certificate: SignerCertificate
    credential: keys.Credential

    @classmethod
    def opened(cls, certificate: SignerCertificate, private_key: keys.PrivateKey) -> SigningKey:
        """The key of `certificate`, now that its private key has been opened."""
        chain = tuple(keys.load_trust_roots(certificate.chain_pem.encode())) if certificate.chain_pem else ()
        return cls(
            user_id=certificate.user_id,
            certificate=certificate,
            credential=keys.Credential(
                certificate=keys.certificate_from_pem(certificate.certificate_pem.encode()),
                private_key=private_key,
                chain=chain,
            ),
        )


def _refuse(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"passphrase": [message]})


def passphrase_status(user: User) -> SigningPassphrase | None:
    return SigningPassphrase.objects.filter(user=user).first()


def _locked_message(record: SigningPassphrase) -> str:
    until = timezone.localtime(record.locked_until) if record.locked_until else timezone.localtime()
    return _(
        "Too many wrong passphrases: signing is locked until %(time)s. Try again then, or reset the passphrase."
    ) % {"time": formats.time_format(until, "H:i")}


def _check_new(passphrase: str, field: str = "new_passphrase") -> None:
    if len(passphrase) < MIN_LENGTH:
        message = ngettext(
            "The passphrase must be at least %(count)d character long.",
            "The passphrase must be at least %(count)d characters long.",
            MIN_LENGTH,
        ) % {"count": MIN_LENGTH}
        raise ValidationFailed(message, fields={field: [message]})


def _adopt_pending(user: User, holder: vault.HolderKey) -> int:
    """Take the holder's keys that wait under the server's key only under their passphrase."""
    count = 0
    for certificate in SignerCertificate.objects.select_for_update().filter(user=user).exclude(encrypted_key_pem=""):
        key = keys.decrypt_private_key(pem=certificate.encrypted_key_pem.encode(), kek=kek())
        certificate.wrapped_key = vault.wrap(key=key, holder=holder, kek=kek(), label=label_of(certificate))
        certificate.encrypted_key_pem = ""
        certificate.save(update_fields=["wrapped_key", "encrypted_key_pem"])
        count += 1
    return count


def unlock(*, user: User, passphrase: str) -> vault.HolderKey:
    """The key derived from the person's passphrase, or a refusal; wrong entries are counted and lock.

    Commits its own bookkeeping (the failure count) before refusing, so an enclosing transaction rolled back
    by the refusal does not undo the count.
    """
    with transaction.atomic():
        record = SigningPassphrase.objects.select_for_update().filter(user=user).first()
        if record is None:
            raise _refuse(
                "no_passphrase",
                _("You have not set a signing passphrase yet: set it on your profile's signing key page."),
            )
        now = timezone.now()
        if record.locked_until is not None and record.locked_until > now:
            raise _refuse("passphrase_locked", _locked_message(record))
        params = vault.KdfParams.from_json(record.kdf)
        holder = vault.derive(passphrase, params) if passphrase else None
        if holder is not None and vault.verify(holder, record.check_value):
            if params.outdated:  # wrapped under an older derivation (scrypt, a lower cost): re-wrapped now, once
                new_params = vault.KdfParams.new()
                holder = _rewrap_keys(user, holder, vault.derive(passphrase, new_params))
                _store(user, holder, new_params)
            elif record.failed_attempts or record.locked_until:
                record.failed_attempts = 0
                record.locked_until = None
                record.save(update_fields=["failed_attempts", "locked_until"])
            _adopt_pending(user, holder)
            return holder
        record.failed_attempts += 1
        locked = record.failed_attempts >= MAX_FAILURES
        if locked:
            record.failed_attempts = 0
            record.locked_until = now + LOCK_FOR
        record.save(update_fields=["failed_attempts", "locked_until"])
    if locked:
        raise _refuse("passphrase_locked", _locked_message(record))
    left = MAX_FAILURES - record.failed_attempts
    raise _refuse(
        "wrong_passphrase",
        ngettext(
            "Wrong passphrase. %(left)d attempt left before signing is locked.",
            "Wrong passphrase. %(left)d attempts left before signing is locked.",
            left,
        )
        % {"left": left},
    )


def signing_certificate(user: User, *, seal: bool = False) -> SignerCertificate | None:
    """The person's newest usable certificate with a key Qujat holds for them (with `seal`: the e-seal they keep)."""
    now = timezone.now()
    return (
        SignerCertificate.objects.filter(
            user=user, revoked_at__isnull=True, not_before__lte=now, not_after__gt=now, is_seal=seal
        )
        .exclude(wrapped_key="", encrypted_key_pem="")
        .order_by("-not_after", "-pk")
        .first()
    )


def open_key(certificate: SignerCertificate, holder: vault.HolderKey) -> SigningKey:
    try:
        private_key = vault.unwrap(
            wrapped=certificate.wrapped_key, holder=holder, kek=kek(), label=label_of(certificate)
        )
    except WrongPasswordError:
        raise _refuse(
            "key_not_opened", _("This key was wrapped under an earlier passphrase; reset the passphrase.")
        ) from None
    except CredentialError as error:
        raise SigningUnavailable(_("The stored key cannot be opened: %(error)s") % {"error": error}) from error
    return SigningKey.opened(certificate, private_key)


def signing_key_open(*, user: User, passphrase: str, seal: bool = False) -> SigningKey:
    """The person's signing key (or the e-seal they keep), opened with the passphrase typed in this request."""
    holder = unlock(user=user, passphrase=passphrase)
    certificate = signing_certificate(user, seal=seal)
    if certificate is None or not certificate.wrapped_key:
        if seal:
            message = _("You keep no valid e-seal of the university.")
            raise ValidationFailed(message, code="no_certificate", fields={"passphrase": [message]})
        raise ValidationFailed(
            _("%(name)s has no valid signing certificate.") % {"name": user.full_name},
            code="no_certificate",
            fields={"passphrase": [_("Ask the administrator to issue a signing certificate, or use NCALayer.")]},
        )
    return open_key(certificate, holder)


def _rewrap_keys(user: User, old: vault.HolderKey, new: vault.HolderKey) -> vault.HolderKey:
    """The holder's keys taken from under `old` to under `new` (a changed passphrase, a stronger derivation)."""
    for certificate in SignerCertificate.objects.select_for_update().filter(user=user).exclude(wrapped_key=""):
        label = label_of(certificate)
        try:
            key = vault.unwrap(wrapped=certificate.wrapped_key, holder=old, kek=kek(), label=label)
        except WrongPasswordError:
            continue  # wrapped under a passphrase before a reset: unusable anyway
        certificate.wrapped_key = vault.wrap(key=key, holder=new, kek=kek(), label=label)
        certificate.save(update_fields=["wrapped_key"])
    return new


def _store(user: User, holder: vault.HolderKey, params: vault.KdfParams) -> SigningPassphrase:
    record, _created = SigningPassphrase.objects.update_or_create(
        user=user,
        defaults={
            "kdf": params.to_json(),
            "check_value": holder.check_value(),
            "failed_attempts": 0,
            "locked_until": None,
            "changed_at": timezone.now(),
        },
    )
    return record


def passphrase_initial(*, user: User, passphrase: str) -> SigningPassphrase:
    """Set a passphrase for someone who has none (the demo seeds its signers' with this); no strength check."""
    params = vault.KdfParams.new()
    holder = vault.derive(passphrase, params)
    with transaction.atomic():
        record = _store(user, holder, params)
        _adopt_pending(user, holder)
    return record


def passphrase_set(*, user: User, new_passphrase: str, current_passphrase: str = "") -> SigningPassphrase:
    """The holder sets their passphrase, or changes it (then the current one is needed): keys are re-wrapped."""
    _check_new(new_passphrase)
    existing = passphrase_status(user)
    old = unlock(user=user, passphrase=current_passphrase) if existing is not None else None
    params = vault.KdfParams.new()
    new = vault.derive(new_passphrase, params)
    with transaction.atomic():
        if old is not None:
            _rewrap_keys(user, old, new)
        record = _store(user, new, params)
        _adopt_pending(user, new)
    return record


def passphrase_reset(*, user: User, account_password: str, new_passphrase: str) -> list[SignerCertificate]:
    """The holder forgot the passphrase: their keys held by Qujat are revoked, new ones are issued under it.

    Confirmed with the account password (the holder's act). Keys imported from a .p12 file are revoked too:
    the holder imports the file again.
    """
    from .services import seal_certificate_issue, signer_certificate_issue, signer_certificate_revoke

    if not user.check_password(account_password):
        message = _("Wrong account password.")
        raise ValidationFailed(message, code="wrong_password", fields={"password": [message]})
    _check_new(new_passphrase)
    params = vault.KdfParams.new()
    holder = vault.derive(new_passphrase, params)
    with transaction.atomic():
        old = list(
            SignerCertificate.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .exclude(wrapped_key="", encrypted_key_pem="")
        )
        personal = [c for c in old if not c.is_seal and c.source == SignerCertificate.Source.ISSUED]
        seals = [c for c in old if c.is_seal]
        for certificate in old:
            signer_certificate_revoke(certificate=certificate, reason=str(_("signing passphrase reset")), by=user)
        _store(user, holder, params)
        issued = []
        if personal:
            issued.append(signer_certificate_issue(user=user))
        if seals:
            issued.append(seal_certificate_issue(custodian=user))
        _adopt_pending(user, holder)
    return issued
