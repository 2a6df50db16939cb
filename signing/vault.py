"""Private keys only their holder unlocks: wrapped under a key derived from the holder's signing passphrase.

Two layers, both AES-256-GCM:

- inner: the private key (unencrypted PKCS#8 DER) under a key derived from the holder's passphrase with Argon2id
  (cryptography's `Argon2id`, at OWASP's recommended cost; keys wrapped earlier under scrypt still open, and are
  re-wrapped under Argon2id when their holder next unlocks them); parameters and salt are the holder's, stored
  next to a check value so a wrong passphrase is told apart without trying keys;
- outer: the inner envelope under a key derived (HKDF-SHA256) from the server's key-encryption key, so a copy of
  the database alone is not enough to start guessing passphrases.

The server therefore cannot sign with a person's key unless that person types the passphrase in the request.
A `SessionKey` re-wraps one unlocked key under a one-time random key for a batch (see `seal_for_session`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import CredentialError, WrongPasswordError
from .keys import PrivateKey

FORMAT = "qujat-vault-1"
# Argon2id at OWASP's first recommendation (19 MiB, 2 passes, 1 lane): about 35 ms here. The cost is stored per
# holder, so raising it later re-wraps each holder's keys at their next unlock (`KdfParams.outdated`).
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PASSES = 2
ARGON2_LANES = 1
MIN_PASSPHRASE = 4


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


@dataclass(frozen=True)
class KdfParams:
    """How a holder's passphrase becomes a key: the function, its salt and cost.

    `kdf` is "argon2id" (cost: memory in KiB, passes, lanes) or, for keys wrapped before Argon2id, "scrypt"
    (cost: n, r, p).
    """

    salt: bytes
    kdf: str = "argon2id"
    cost: tuple[int, int, int] = (ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES)

    _NAMES: ClassVar[dict[str, tuple[str, str, str]]] = {"argon2id": ("m", "t", "p"), "scrypt": ("n", "r", "p")}

    def to_json(self) -> str:
        names = self._NAMES[self.kdf]
        return json.dumps({"kdf": self.kdf, "salt": _b64(self.salt), **dict(zip(names, self.cost, strict=True))})

    @classmethod
    def from_json(cls, text: str) -> KdfParams:
        data = json.loads(text)
        kdf = data.get("kdf")
        if kdf not in cls._NAMES:
            raise CredentialError(f"unknown key derivation {kdf!r}")
        first, second, third = (int(data[name]) for name in cls._NAMES[kdf])
        return cls(salt=_unb64(data["salt"]), kdf=kdf, cost=(first, second, third))

    @classmethod
    def new(cls) -> KdfParams:
        return cls(salt=os.urandom(16))

    @property
    def outdated(self) -> bool:
        """Weaker, or other, than what a new passphrase gets: re-wrap the holder's keys at their next unlock."""
        current = KdfParams.new()
        return (self.kdf, self.cost) != (current.kdf, current.cost)


@dataclass(frozen=True)
class HolderKey:
    """The key derived from a holder's passphrase: lives only in memory, for the length of one request."""

    key: bytes

    def check_value(self) -> str:
        return hmac.new(self.key, b"qujat passphrase check", hashlib.sha256).hexdigest()


def derive(passphrase: str, params: KdfParams) -> HolderKey:
    if not passphrase:
        raise WrongPasswordError("empty passphrase")
    first, second, third = params.cost
    if params.kdf == "scrypt":
        kdf: Argon2id | Scrypt = Scrypt(salt=params.salt, length=32, n=first, r=second, p=third)
    else:
        kdf = Argon2id(salt=params.salt, length=32, iterations=second, lanes=third, memory_cost=first)
    return HolderKey(kdf.derive(passphrase.encode("utf-8")))


def verify(holder: HolderKey, check_value: str) -> bool:
    return hmac.compare_digest(holder.check_value(), check_value)


def _outer_key(kek: bytes) -> bytes:
    if len(kek) < 32:
        raise CredentialError("the key-encryption key must be at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"qujat vault outer layer").derive(kek)


def _seal(key: bytes, data: bytes, aad: bytes) -> str:
    nonce = os.urandom(12)
    return _b64(nonce + AESGCM(key).encrypt(nonce, data, aad))


def _open(key: bytes, text: str, aad: bytes) -> bytes:
    raw = _unb64(text)
    return AESGCM(key).decrypt(raw[:12], raw[12:], aad)


def _der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _load(der: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CredentialError(f"unsupported private key type {type(key).__name__}")
    return key


def wrap(*, key: PrivateKey, holder: HolderKey, kek: bytes, label: str) -> str:
    """The stored form of a private key: holder's layer inside, server's layer outside; `label` binds it."""
    aad = f"{FORMAT}:{label}".encode()
    inner = _seal(holder.key, _der(key), aad)
    return f"{FORMAT}:" + _seal(_outer_key(kek), inner.encode(), aad)


def unwrap(*, wrapped: str, holder: HolderKey, kek: bytes, label: str) -> PrivateKey:
    """The private key, given the holder's derived key; WrongPasswordError when it does not open."""
    if not wrapped.startswith(f"{FORMAT}:"):
        raise CredentialError("not a key wrapped under a holder's passphrase")
    aad = f"{FORMAT}:{label}".encode()
    try:
        inner = _open(_outer_key(kek), wrapped[len(FORMAT) + 1 :], aad).decode()
    except InvalidTag:
        raise CredentialError("the server's key-encryption key does not open this key") from None
    try:
        return _load(_open(holder.key, inner, aad))
    except InvalidTag:
        raise WrongPasswordError("the passphrase does not open this key") from None


@dataclass(frozen=True)
class SessionKey:
    """A one-time random key for a batch: kept only in a short-lived cache, never next to what it opens."""

    key: bytes

    @classmethod
    def new(cls) -> SessionKey:
        return cls(AESGCM.generate_key(bit_length=256))

    def as_text(self) -> str:
        return _b64(self.key)

    @classmethod
    def from_text(cls, text: str) -> SessionKey:
        return cls(_unb64(text))


def seal_for_session(*, key: PrivateKey, session: SessionKey, label: str) -> str:
    """An unlocked key re-wrapped under a session key (for a batch's worker); useless without that key."""
    return _seal(session.key, _der(key), f"{FORMAT}:session:{label}".encode())


def open_for_session(*, sealed: str, session: SessionKey, label: str) -> PrivateKey:
    try:
        return _load(_open(session.key, sealed, f"{FORMAT}:session:{label}".encode()))
    except InvalidTag:
        raise CredentialError("the session key does not open this key") from None
