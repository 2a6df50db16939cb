"""Keys and certificates: the university PKI, key protection, PKCS#12 import, certificate descriptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from signing_testbed import REGISTRAR_IIN, REGISTRAR_NAME, UNIVERSITY, Pki, PkiFiles, run_tool

from signing.errors import CredentialError, KeyEncryptionKeyError, WrongPasswordError
from signing.keys import (
    DOCUMENT_SIGNING_EKU,
    Credential,
    certificate_fingerprint,
    certificate_from_pem,
    certificate_iin,
    certificate_to_pem,
    decrypt_private_key,
    describe_certificate,
    encrypt_private_key,
    generate_root_ca,
    issue_signer_certificate,
    kek_from_environment,
    load_pkcs12,
    load_trust_roots,
)

KEK = b"k" * 16 + b"e" * 16 + b"-long-enough-secret"


ExtensionT = TypeVar("ExtensionT", bound=x509.ExtensionType)


def _extension(cert: x509.Certificate, kind: type[ExtensionT]) -> ExtensionT:
    return cert.extensions.get_extension_for_class(kind).value


class TestUniversityPki:
    def test_root_and_issuing_ca_limit_path_length_and_may_only_certify(self, pki: Pki) -> None:
        root_constraints = _extension(pki.root.certificate, x509.BasicConstraints)
        issuing_constraints = _extension(pki.issuing.certificate, x509.BasicConstraints)
        assert (root_constraints.ca, root_constraints.path_length) == (True, 1)
        assert (issuing_constraints.ca, issuing_constraints.path_length) == (True, 0)
        for ca in (pki.root, pki.issuing):
            usage = _extension(ca.certificate, x509.KeyUsage)
            assert usage.key_cert_sign
            assert usage.crl_sign
            assert not usage.digital_signature

    def test_issuing_ca_key_identifiers_link_to_the_root(self, pki: Pki) -> None:
        root_ski = _extension(pki.root.certificate, x509.SubjectKeyIdentifier)
        issuing_aki = _extension(pki.issuing.certificate, x509.AuthorityKeyIdentifier)
        assert issuing_aki.key_identifier == root_ski.digest

    def test_chain_holds_issuers_without_the_root_unless_it_is_the_direct_issuer(self, pki: Pki) -> None:
        assert pki.root.chain == ()
        assert pki.issuing.chain == (pki.root.certificate,)
        assert pki.registrar.chain == (pki.issuing.certificate,)

    def test_openssl_accepts_the_signer_chain(self, pki_files: PkiFiles) -> None:
        result = run_tool(
            "openssl",
            "verify",
            "-CAfile",
            pki_files.root_pem,
            "-untrusted",
            pki_files.chain_pem,
            "-purpose",
            "smimesign",
            pki_files.registrar_cert_pem,
        )
        assert result.stdout.strip().endswith(": OK")


class TestSignerCertificate:
    def test_subject_carries_name_position_organisation_and_iin_like_nca_rk(self, pki: Pki) -> None:
        subject = pki.registrar.certificate.subject
        assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == REGISTRAR_NAME
        assert subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Тіркеу кеңсесінің басшысы"
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == UNIVERSITY
        assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == f"IIN{REGISTRAR_IIN}"

    def test_key_is_only_for_signatures(self, pki: Pki) -> None:
        usage = _extension(pki.registrar.certificate, x509.KeyUsage)
        assert usage.digital_signature
        assert usage.content_commitment
        assert not usage.key_cert_sign
        purposes = list(_extension(pki.registrar.certificate, x509.ExtendedKeyUsage))
        assert purposes == [ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_EKU]

    @pytest.mark.parametrize("bad_iin", ["12345678901", "1234567890123", "12345678901a", "", "١٢٣٤٥٦٧٨٩٠١٢"])
    def test_an_iin_that_is_not_12_digits_is_refused(self, pki: Pki, bad_iin: str) -> None:
        with pytest.raises(ValueError, match="IIN must be exactly 12 digits"):
            issue_signer_certificate(issuer=pki.issuing, full_name="X", position="Y", organisation="Z", iin=bad_iin)


class TestCertificateDescription:
    def test_describe_certificate_lists_what_the_signing_sheet_needs(self, pki: Pki) -> None:
        info = describe_certificate(pki.registrar.certificate)
        assert info.subject_common_name == REGISTRAR_NAME
        assert info.title == "Тіркеу кеңсесінің басшысы"
        assert info.organisation == UNIVERSITY
        assert info.iin == REGISTRAR_IIN
        assert info.email == "registrar@example.kz"
        assert info.issuer_common_name == "Qujat Test Issuing CA"
        assert info.issuer_organisation == UNIVERSITY
        assert info.serial_number == format(pki.registrar.certificate.serial_number, "x")
        assert info.not_before < dt.datetime.now(dt.UTC) < info.not_after
        assert info.fingerprint_sha256 == certificate_fingerprint(pki.registrar.certificate)

    def test_sheet_text_reads_like_the_national_ca_line(self) -> None:
        nca_like = generate_root_ca(common_name="ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)", organisation="НУЦ РК")
        signer = issue_signer_certificate(
            issuer=nca_like,
            full_name="Байльдинова Клара",
            position="Басшы",
            organisation=UNIVERSITY,
            iin="880101400123",
        )
        assert describe_certificate(signer.certificate).sheet_text == (
            f"ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA), БАЙЛЬДИНОВА КЛАРА, {UNIVERSITY}"
        )

    @pytest.mark.parametrize(
        ("serial_number", "expected"),
        [
            ("IIN880101400123", "880101400123"),
            ("880101400123", "880101400123"),
            ("iin 880101400123", "880101400123"),
        ],
    )
    def test_certificate_iin_tolerates_the_prefix(self, pki: Pki, serial_number: str, expected: str) -> None:
        assert certificate_iin(_with_serial_number(pki, serial_number)) == expected

    @pytest.mark.parametrize("serial_number", ["BIN123456789012", "IIN12345", None])
    def test_certificate_iin_is_none_without_a_personal_iin(self, pki: Pki, serial_number: str | None) -> None:
        assert certificate_iin(_with_serial_number(pki, serial_number)) is None


def _with_serial_number(pki: Pki, serial_number: str | None) -> x509.Certificate:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, "Test")]
    if serial_number is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    key = pki.registrar.private_key
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(pki.issuing.private_key, hashes.SHA256())
    )


class TestPem:
    def test_certificate_round_trips_through_pem(self, pki: Pki) -> None:
        pem = certificate_to_pem(pki.registrar.certificate)
        assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
        assert certificate_from_pem(pem) == pki.registrar.certificate
        assert certificate_from_pem(pem.decode("ascii")) == pki.registrar.certificate

    def test_a_trust_file_may_hold_several_roots_or_one_der_certificate(self, pki: Pki) -> None:
        bundle = certificate_to_pem(pki.root.certificate) + certificate_to_pem(pki.stranger_root.certificate)
        assert load_trust_roots(bundle) == [pki.root.certificate, pki.stranger_root.certificate]
        der = pki.root.certificate.public_bytes(serialization.Encoding.DER)
        assert load_trust_roots(der) == [pki.root.certificate]

    def test_garbage_is_not_a_trust_file(self) -> None:
        with pytest.raises(CredentialError, match="no usable certificate"):
            load_trust_roots(b"not a certificate")
        with pytest.raises(CredentialError, match="not a PEM certificate"):
            certificate_from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


class TestKeyProtection:
    def test_encrypted_pem_hides_the_key_and_round_trips(self, pki: Pki) -> None:
        key = pki.registrar.private_key
        plaintext = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem = encrypt_private_key(key=key, kek=KEK)
        assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem
        body = b"".join(plaintext.splitlines()[1:-1])
        assert body not in pem.replace(b"\n", b"")
        restored = decrypt_private_key(pem=pem, kek=KEK)
        assert restored.private_numbers() == key.private_numbers()

    def test_a_wrong_kek_does_not_open_the_key(self, pki: Pki) -> None:
        pem = encrypt_private_key(key=pki.registrar.private_key, kek=KEK)
        with pytest.raises(WrongPasswordError, match="does not decrypt"):
            decrypt_private_key(pem=pem, kek=KEK[:-1] + b"X")

    def test_an_unencrypted_key_is_refused(self, pki: Pki) -> None:
        plaintext = pki.registrar.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with pytest.raises(CredentialError, match="not stored encrypted"):
            decrypt_private_key(pem=plaintext, kek=KEK)

    def test_a_short_kek_is_refused_when_encrypting(self, pki: Pki) -> None:
        with pytest.raises(KeyEncryptionKeyError, match="at least 32"):
            encrypt_private_key(key=pki.registrar.private_key, kek=b"short")

    def test_kek_comes_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("QUJAT_KEY_ENCRYPTION_KEY", KEK.decode())
        assert kek_from_environment() == KEK
        monkeypatch.setenv("OTHER_KEK", "x" * 32)
        assert kek_from_environment("OTHER_KEK") == b"x" * 32

    def test_kek_from_environment_refuses_unset_empty_and_short_values(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("QUJAT_KEY_ENCRYPTION_KEY", raising=False)
        with pytest.raises(KeyEncryptionKeyError, match="QUJAT_KEY_ENCRYPTION_KEY is not set"):
            kek_from_environment()
        monkeypatch.setenv("QUJAT_KEY_ENCRYPTION_KEY", "")
        with pytest.raises(KeyEncryptionKeyError, match="is not set"):
            kek_from_environment()
        monkeypatch.setenv("QUJAT_KEY_ENCRYPTION_KEY", "s3cret-but-31-characters-long!!")
        with pytest.raises(KeyEncryptionKeyError, match="too short") as excinfo:
            kek_from_environment()
        assert "s3cret" not in str(excinfo.value)

    def test_credential_repr_shows_no_key_material(self, pki: Pki) -> None:
        credential = pki.registrar
        numbers = credential.private_key.private_numbers()
        secret = format(numbers.private_value, "x")
        for text in (repr(credential), str(credential), f"{credential}"):
            assert secret not in text
            assert "PRIVATE" not in text
            assert certificate_fingerprint(credential.certificate) in text


class TestPkcs12:
    def _p12_with_cryptography(self, credential: Credential, password: bytes) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            name=b"signer",
            key=credential.private_key,
            cert=credential.certificate,
            cas=list(credential.chain),
            encryption_algorithm=serialization.BestAvailableEncryption(password),
        )

    def test_a_p12_written_by_cryptography_loads(self, rsa_signer: Credential) -> None:
        loaded = load_pkcs12(data=self._p12_with_cryptography(rsa_signer, b"Qwerty12"), password=b"Qwerty12")
        assert loaded.certificate == rsa_signer.certificate
        assert loaded.chain == rsa_signer.chain
        assert certificate_iin(loaded.certificate) == "850303350111"

    @pytest.mark.parametrize("legacy", [False, True], ids=["aes", "legacy-3des"])
    def test_a_p12_exported_by_openssl_loads(
        self, rsa_signer: Credential, pki_files: PkiFiles, tmp_path: Path, legacy: bool
    ) -> None:
        key = tmp_path / "key.pem"
        cert = tmp_path / "cert.pem"
        key.write_bytes(
            rsa_signer.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert.write_bytes(certificate_to_pem(rsa_signer.certificate))
        out = tmp_path / "signer.p12"
        args = ["openssl", "pkcs12", "-export", "-inkey", key, "-in", cert, "-certfile", pki_files.chain_pem]
        if legacy:
            args.append("-legacy")
        run_tool(*args, "-out", out, "-passout", "pass:Qwerty12")
        loaded = load_pkcs12(data=out.read_bytes(), password=b"Qwerty12")
        assert loaded.certificate == rsa_signer.certificate
        assert loaded.chain == rsa_signer.chain

    def test_a_wrong_password_gives_a_clear_error(self, rsa_signer: Credential) -> None:
        data = self._p12_with_cryptography(rsa_signer, b"Qwerty12")
        with pytest.raises(WrongPasswordError, match="password is wrong"):
            load_pkcs12(data=data, password=b"qwerty12")

    def test_a_p12_without_a_key_is_refused(self, rsa_signer: Credential) -> None:
        data = pkcs12.serialize_key_and_certificates(
            name=None,
            key=None,
            cert=rsa_signer.certificate,
            cas=None,
            encryption_algorithm=serialization.BestAvailableEncryption(b"pw"),
        )
        with pytest.raises(CredentialError, match="both a private key and its certificate"):
            load_pkcs12(data=data, password=b"pw")
