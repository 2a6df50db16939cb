"""pyHanko's signer over an in-memory credential: what PAdES and detached CMS signatures both sign with."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import PdfSigningError
from signing.keys import Credential, PrivateKey
from signing.trust import to_asn1


class CredentialSigner(Signer):
    """Signs with the in-memory cryptography key directly, so the key is never re-serialised into
    pyHanko's asn1crypto structures."""

    def __init__(self, credential: Credential) -> None:
        self._key = credential.private_key
        registry = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [to_asn1(cert) for cert in credential.chain]
        )
        super().__init__(
            signing_cert=to_asn1(credential.certificate),
            cert_registry=registry,
            embed_roots=True,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return _raw_sign(self._key, data, digest_algorithm)


def _raw_sign(key: PrivateKey, data: bytes, digest_algorithm: str) -> bytes:
    hash_algorithm = _hash_for(digest_algorithm)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hash_algorithm)
    return key.sign(data, ec.ECDSA(hash_algorithm))


def _hash_for(name: str) -> hashes.HashAlgorithm:
    algorithms: dict[str, hashes.HashAlgorithm] = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    try:
        return algorithms[name]
    except KeyError:
        raise PdfSigningError(f"unsupported digest algorithm {name!r}") from None
