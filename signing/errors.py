"""Exceptions raised by the signing package; all carry a message fit to show an administrator."""


class CredentialError(ValueError):
    """A key, certificate or key container could not be used."""


class WrongPasswordError(CredentialError):
    """A PKCS#12 password or a key-encryption key does not open the protected key."""


class KeyEncryptionKeyError(RuntimeError):
    """The key-encryption key is missing from the environment or too weak to use."""


class PdfSigningError(ValueError):
    """A PDF could not be signed (unreadable input, field already signed, bad placement)."""


class RemoteSignatureError(ValueError):
    """An externally produced CMS does not belong to the prepared document."""
