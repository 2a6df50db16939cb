"""Keys and certificates: a small university PKI, key protection at rest and certificate descriptions."""

from __future__ import annotations

import datetime as dt
import enum
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from signing.errors import CredentialError, KeyEncryptionKeyError, WrongPasswordError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

KEK_ENVIRONMENT_VARIABLE = "QUJAT_KEY_ENCRYPTION_KEY"
MINIMUM_KEK_LENGTH = 32

# RFC 9336 id-kp-documentSigning: the purpose-built EKU for document signatures.
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

# Certificates are back-dated a little so that a signer's clock running slightly behind ours
# does not see a "not yet valid" certificate right after it was issued.
_CLOCK_SKEW = dt.timedelta(minutes=5)

_IIN_PATTERN = re.compile(r"[0-9]{12}")


class KeyAlgorithm(enum.Enum):
    """Key types we generate; EC P-256 is fast, RSA matches what NCA RK issues."""

    EC_P256 = "ec-p256"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"


DEFAULT_KEY_ALGORITHM = KeyAlgorithm.EC_P256


@dataclass(frozen=True, repr=False)
class Credential:
    """A certificate with its private key and the issuing chain needed to validate it.

    ``chain`` holds the issuer certificates from the direct issuer upwards, leaving out
    self-signed roots (a verifier must already have them as trust anchors) — except when
    the root is the direct issuer itself, so ``chain`` is never empty for an issued
    certificate. A root CA's own credential has an empty chain.
    """

    certificate: x509.Certificate
    private_key: PrivateKey = field(compare=False)
    chain: tuple[x509.Certificate, ...] = ()

    def __repr__(self) -> str:
        # Never show key material, not even by accident in a traceback or a log line.
        subject = self.certificate.subject.rfc4514_string()
        return f"Credential(subject={subject!r}, fingerprint={certificate_fingerprint(self.certificate)!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class CertificateInfo:
    """What a person needs to know about a signing certificate, as plain values."""

    subject_common_name: str | None
    title: str | None
    organisation: str | None
    iin: str | None
    email: str | None
    issuer_common_name: str | None
    issuer_organisation: str | None
    serial_number: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint_sha256: str

    @property
    def sheet_text(self) -> str:
        """Certificate line for the approval and signing sheet: issuer CN, SUBJECT CN, organisation."""
        parts = [
            self.issuer_common_name,
            self.subject_common_name.upper() if self.subject_common_name else None,
            self.organisation,
        ]
        return ", ".join(part for part in parts if part)


def _new_private_key(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm is KeyAlgorithm.EC_P256:
        return ec.generate_private_key(ec.SECP256R1())
    key_size = 2048 if algorithm is KeyAlgorithm.RSA_2048 else 3072
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def _name(attributes: Iterable[tuple[ObjectIdentifier, str | None]]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes if value])


def _validity(valid_days: int, not_before: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    if valid_days <= 0:
        raise ValueError(f"valid_days must be positive, got {valid_days}")
    start = not_before if not_before is not None else dt.datetime.now(dt.UTC) - _CLOCK_SKEW
    if start.tzinfo is None:
        raise ValueError("not_before must be timezone-aware")
    return start, start + dt.timedelta(days=valid_days)


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _aki(issuer: Credential) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _chain_below(issuer: Credential) -> tuple[x509.Certificate, ...]:
    upper = tuple(cert for cert in issuer.chain if not _is_self_signed(cert))
    return (issuer.certificate, *upper)


def _crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
    # Verifiers only consult revocation lists for certificates that say where theirs is published.
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def generate_root_ca(
    *,
    common_name: str,
    organisation: str,
    country: str = "KZ",
    valid_days: int = 3650,
    key_algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM,
) -> Credential:
    """Create a self-signed root CA that may certify one level of issuing CAs."""
    key = _new_private_key(key_algorithm)
    subject = _name(
        [
            (NameOID.COUNTRY_NAME, country),
            (NameOID.ORGANIZATION_NAME, organisation),
            (NameOID.COMMON_NAME, common_name),
        ]
    )
    not_before, not_after = _validity(valid_days, None)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Credential(certificate=certificate, private_key=key, chain=())


def generate_issuing_ca(
    *,
    issuer: Credential,
    common_name: str,
    organisation: str,
    valid_days: int = 1825,
    country: str = "KZ",
    key_algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM,
    crl_url: str | None = None,
) -> Credential:
    """Create an intermediate CA under ``issuer`` that may only certify end entities."""
    key = _new_private_key(key_algorithm)
    subject = _name(
        [
            (NameOID.COUNTRY_NAME, country),
            (NameOID.ORGANIZATION_NAME, organisation),
            (NameOID.COMMON_NAME, common_name),
        ]
    )
    not_before, not_after = _validity(valid_days, None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(min(not_after, issuer.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    if crl_url:
        builder = builder.add_extension(_crl_distribution_point(crl_url), critical=False)
    certificate = builder.sign(issuer.private_key, hashes.SHA256())
    return Credential(certificate=certificate, private_key=key, chain=_chain_below(issuer))


def validate_iin(iin: str) -> str:
    """Return the IIN if it is exactly 12 ASCII digits, else raise ValueError."""
    if not isinstance(iin, str) or not _IIN_PATTERN.fullmatch(iin):
        raise ValueError(f"IIN must be exactly 12 digits, got {iin!r}")
    return iin


def _end_entity_builder(
    *, issuer: Credential, key: PrivateKey, subject: x509.Name, start: dt.datetime, end: dt.datetime
) -> x509.CertificateBuilder:
    """A document-signing certificate under ``issuer``, not valid beyond it; the caller adds what is its own."""
    return (
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
        # emailProtection is what NSS (poppler's pdfsig) and NCA RK signing certificates use for
        # document signatures; documentSigning states the purpose for verifiers that know it.
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_EKU]),
            critical=False,
        )
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )


def issue_signer_certificate(
    *,
    issuer: Credential,
    full_name: str,
    position: str,
    organisation: str,
    iin: str,
    email: str | None = None,
    valid_days: int = 730,
    country: str = "KZ",
    key_algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM,
    not_before: dt.datetime | None = None,
    crl_url: str | None = None,
) -> Credential:
    """Issue a document-signing certificate for a person, with the IIN where NCA RK puts it."""
    validate_iin(iin)
    if not full_name.strip():
        raise ValueError("full_name must not be empty")
    key = _new_private_key(key_algorithm)
    subject = _name(
        [
            (NameOID.COMMON_NAME, full_name),
            # NCA RK writes the IIN as subject serialNumber "IIN" + 12 digits.
            (NameOID.SERIAL_NUMBER, f"IIN{iin}"),
            (NameOID.COUNTRY_NAME, country),
            (NameOID.ORGANIZATION_NAME, organisation),
            (NameOID.TITLE, position),
            (NameOID.EMAIL_ADDRESS, email),
        ]
    )
    start, end = _validity(valid_days, not_before)
    builder = _end_entity_builder(issuer=issuer, key=key, subject=subject, start=start, end=end)
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    if crl_url:
        builder = builder.add_extension(_crl_distribution_point(crl_url), critical=False)
    certificate = builder.sign(issuer.private_key, hashes.SHA256())
    return Credential(certificate=certificate, private_key=key, chain=_chain_below(issuer))


def issue_system_certificate(
    *,
    issuer: Credential,
    common_name: str,
    organisation: str,
    valid_days: int = 3650,
    country: str = "KZ",
    key_algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM,
) -> Credential:
    """What the university itself signs with (evidence manifests, history checkpoints): no person, no IIN."""
    key = _new_private_key(key_algorithm)
    subject = _name(
        [
            (NameOID.COMMON_NAME, common_name),
            (NameOID.COUNTRY_NAME, country),
            (NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    start, end = _validity(valid_days, None)
    builder = _end_entity_builder(issuer=issuer, key=key, subject=subject, start=start, end=end)
    certificate = builder.sign(issuer.private_key, hashes.SHA256())
    return Credential(certificate=certificate, private_key=key, chain=_chain_below(issuer))


def encrypt_private_key(*, key: PrivateKey, kek: bytes) -> bytes:
    """Serialise a private key as encrypted PKCS#8 PEM (PBES2, AES-256-CBC) under the KEK."""
    _check_kek(kek)
    # BestAvailableEncryption writes PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC); the KEK is a
    # long random secret, so the KDF's iteration count is not what protects it.
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(kek),
    )


def decrypt_private_key(*, pem: bytes, kek: bytes) -> PrivateKey:
    """Load a private key written by encrypt_private_key; raise WrongPasswordError for a wrong KEK."""
    if b"ENCRYPTED PRIVATE KEY" not in pem:
        raise CredentialError("refusing to load a private key that is not stored encrypted")
    try:
        key = serialization.load_pem_private_key(pem, password=kek)
    except (ValueError, TypeError):
        raise WrongPasswordError("the key-encryption key does not decrypt this private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CredentialError(f"unsupported private key type {type(key).__name__}")
    return key


def _check_kek(kek: bytes) -> None:
    if len(kek) < MINIMUM_KEK_LENGTH:
        raise KeyEncryptionKeyError(f"the key-encryption key must be at least {MINIMUM_KEK_LENGTH} characters long")


def kek_from_environment(var: str = KEK_ENVIRONMENT_VARIABLE) -> bytes:
    """Read the key-encryption key from an environment variable, refusing unset or short values."""
    value = os.environ.get(var)
    if value is None or not value.strip():
        raise KeyEncryptionKeyError(f"environment variable {var} is not set; it must hold the key-encryption key")
    if len(value) < MINIMUM_KEK_LENGTH:
        # The message names the variable and the rule, never the value.
        raise KeyEncryptionKeyError(
            f"environment variable {var} is too short: the key-encryption key needs "
            f"at least {MINIMUM_KEK_LENGTH} characters"
        )
    return value.encode("utf-8")


def load_pkcs12(*, data: bytes, password: bytes | None) -> Credential:
    """Import a signer's .p12/.pfx (as NCA RK issues them); WrongPasswordError on a wrong password."""
    try:
        key, certificate, additional = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        # OpenSSL reports a wrong password and a damaged file the same way; a MAC failure is
        # by far the common case, so say that first.
        raise WrongPasswordError(
            "could not open the PKCS#12 file: the password is wrong or the file is damaged"
        ) from None
    except TypeError as exc:
        raise WrongPasswordError(f"could not open the PKCS#12 file: {exc}") from None
    if key is None or certificate is None:
        raise CredentialError("the PKCS#12 file must contain both a private key and its certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CredentialError(
            f"unsupported key type {type(key).__name__} in the PKCS#12 file (RSA or EC keys only; "
            "GOST keys must be used through NCALayer)"
        )
    if _public_key_der(key) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CredentialError("the private key in the PKCS#12 file does not match its certificate")
    leaf_fingerprint = certificate_fingerprint(certificate)
    others = [cert for cert in additional if certificate_fingerprint(cert) != leaf_fingerprint]
    chain = tuple(_issuer_order(certificate, others))
    return Credential(certificate=certificate, private_key=key, chain=chain)


def _public_key_der(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _issuer_order(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    # Put the chain in issuer order (direct issuer first); certificates that are not part of
    # the leaf's path are kept at the end rather than dropped.
    ordered: list[x509.Certificate] = []
    remaining = list(others)
    current = leaf
    while not _is_self_signed(current):
        parent = next((c for c in remaining if c.subject == current.issuer), None)
        if parent is None:
            break
        ordered.append(parent)
        remaining.remove(parent)
        current = parent
    return ordered + remaining


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of the DER certificate as lowercase hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def _first_attribute(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", errors="replace")


def certificate_iin(cert: x509.Certificate) -> str | None:
    """The IIN from the subject serialNumber ("IIN123456789012" or bare digits), or None."""
    for attribute in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        raw = attribute.value
        value = raw if isinstance(raw, str) else raw.decode("ascii", "replace")
        candidate = value.strip().upper().removeprefix("IIN").strip()
        if _IIN_PATTERN.fullmatch(candidate):
            return candidate
    return None


def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    """Summarise a certificate for display and for the approval and signing sheet."""
    return CertificateInfo(
        subject_common_name=_first_attribute(cert.subject, NameOID.COMMON_NAME),
        title=_first_attribute(cert.subject, NameOID.TITLE),
        organisation=_first_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
        iin=certificate_iin(cert),
        email=_first_attribute(cert.subject, NameOID.EMAIL_ADDRESS),
        issuer_common_name=_first_attribute(cert.issuer, NameOID.COMMON_NAME),
        issuer_organisation=_first_attribute(cert.issuer, NameOID.ORGANIZATION_NAME),
        serial_number=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint_sha256=certificate_fingerprint(cert),
    )


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    """PEM encoding of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_from_pem(pem: bytes | str) -> x509.Certificate:
    """Load one PEM certificate; raise CredentialError if it is not one."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise CredentialError(f"not a PEM certificate: {exc}") from None


def load_trust_roots(pem_bytes: bytes) -> list[x509.Certificate]:
    """Load every certificate from a PEM bundle (or one DER .cer file, as NCA RK publishes roots)."""
    try:
        if b"-----BEGIN" in pem_bytes:
            return x509.load_pem_x509_certificates(pem_bytes)
        return [x509.load_der_x509_certificate(pem_bytes)]
    except ValueError as exc:
        raise CredentialError(f"no usable certificate in the trust file: {exc}") from None
