"""signing.vault: a key under its holder's passphrase, inside the server's layer; the batch session key."""

from __future__ import annotations

import pytest

from signing import keys, vault
from signing.errors import CredentialError, WrongPasswordError

KEK = b"k" * 40


def _key() -> keys.PrivateKey:
    root = keys.generate_root_ca(common_name="Test Root", organisation="Test")
    return root.private_key


def test_a_wrapped_key_opens_only_with_the_passphrase_the_kek_and_its_label() -> None:
    key = _key()
    params = vault.KdfParams.from_json(vault.KdfParams.new().to_json())
    holder = vault.derive("құпия сөз", params)
    wrapped = vault.wrap(key=key, holder=holder, kek=KEK, label="cert:1")
    assert b"PRIVATE KEY" not in wrapped.encode()
    opened = vault.unwrap(wrapped=wrapped, holder=vault.derive("құпия сөз", params), kek=KEK, label="cert:1")
    assert opened.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    assert vault.verify(holder, holder.check_value())
    assert not vault.verify(vault.derive("wrong", params), holder.check_value())
    with pytest.raises(WrongPasswordError):
        vault.unwrap(wrapped=wrapped, holder=vault.derive("wrong", params), kek=KEK, label="cert:1")
    with pytest.raises(CredentialError):
        vault.unwrap(wrapped=wrapped, holder=holder, kek=b"x" * 40, label="cert:1")
    with pytest.raises(CredentialError):
        vault.unwrap(wrapped=wrapped, holder=holder, kek=KEK, label="cert:2")  # copied to another row


def test_a_session_key_reopens_an_unlocked_key_and_nothing_else() -> None:
    key = _key()
    session = vault.SessionKey.new()
    sealed = vault.seal_for_session(key=key, session=session, label="cert:1")
    again = vault.SessionKey.from_text(session.as_text())
    assert vault.open_for_session(sealed=sealed, session=again, label="cert:1").private_numbers() == (
        key.private_numbers()  # type: ignore[union-attr]
    )
    with pytest.raises(CredentialError):
        vault.open_for_session(sealed=sealed, session=vault.SessionKey.new(), label="cert:1")


def test_new_passphrases_get_argon2id_and_scrypt_parameters_still_derive() -> None:
    params = vault.KdfParams.new()
    assert (params.kdf, params.outdated) == ("argon2id", False)
    assert vault.KdfParams.from_json(params.to_json()) == params
    old = vault.KdfParams.from_json('{"kdf": "scrypt", "salt": "c2FsdHNhbHRzYWx0c2FsdA==", "n": 16384, "r": 8, "p": 1}')
    assert old.outdated
    assert vault.derive("pass", old).key == vault.derive("pass", old).key != vault.derive("pass", params).key
    with pytest.raises(CredentialError):
        vault.KdfParams.from_json('{"kdf": "md5", "salt": ""}')
