"""GOST R 34.10-2012 CMS signatures, verified with gostcrypto (PyPI, pure Python; never the `pygost` stub).

What is covered: detached or attached CMS SignedData whose signer uses GOST R 34.10-2012 (256- or 512-bit keys,
the TC26 and CryptoPro curve parameter sets) with Streebog (GOST R 34.11-2012) digests, encoded as RFC 4490/4491
and RFC 7836 describe: public keys as little-endian X‖Y in an OCTET STRING, signature values as big-endian s‖r,
the digest read as a little-endian number. The signer's certificate must chain, through GOST-signed certificates
in the CMS, to a trust root; each certificate is checked for validity at signing time, key usage and the IIN.

Not covered (answered `unsupported_algorithm`): Kazakhstan's GOST 34.310-2004 and its OIDs 1.2.398.3.10.*, which
no library on PyPI implements; revocation (CRL/OCSP) of GOST certificates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gostcrypto
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from signing.trust import iin_problem, key_usage_problem, validity_problem

STREEBOG = {"1.2.643.7.1.1.2.2": "streebog256", "1.2.643.7.1.1.2.3": "streebog512"}
# Public key algorithms (id-tc26-gost3410-12-256/512) and signature algorithms (signwithdigest-gost3410-12-256/512).
KEY_ALGORITHMS = {"1.2.643.7.1.1.1.1": 256, "1.2.643.7.1.1.1.2": 512}
SIGNATURE_ALGORITHMS = {"1.2.643.7.1.1.3.2": 256, "1.2.643.7.1.1.3.3": 512, **KEY_ALGORITHMS}
DIGEST_FOR_SIZE = {256: "1.2.643.7.1.1.2.2", 512: "1.2.643.7.1.1.2.3"}
SIGNATURE_FOR_SIZE = {256: "1.2.643.7.1.1.3.2", 512: "1.2.643.7.1.1.3.3"}
KEY_FOR_SIZE = {256: "1.2.643.7.1.1.1.1", 512: "1.2.643.7.1.1.1.2"}
# Curve parameter set OIDs (RFC 7836, RFC 4357) and the name gostcrypto knows each by.
CURVES = {
    "1.2.643.7.1.2.1.1.1": "id-tc26-gost-3410-2012-256-paramSetA",
    "1.2.643.7.1.2.1.1.2": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.7.1.2.1.1.3": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.7.1.2.1.1.4": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.2.2.35.1": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.2.2.35.2": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.2.2.35.3": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.2.2.36.0": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.2.2.36.1": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.7.1.2.1.2.1": "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.2": "id-tc26-gost-3410-12-512-paramSetB",
    "1.2.643.7.1.2.1.2.3": "id-tc26-gost-3410-2012-512-paramSetC",
}
KAZAKH_GOST_PREFIX = "1.2.398.3.10."


class KeyParameters(asn1_core.Sequence):
    """GostR3410-2012-PublicKeyParameters: the curve, and the digest for 256-bit keys."""

    _fields = [
        ("public_key_param_set", asn1_core.ObjectIdentifier),
        ("digest_param_set", asn1_core.ObjectIdentifier, {"optional": True}),
    ]


@dataclass(frozen=True)
class GostKey:
    size: int  # 256 or 512 bits
    curve: str  # gostcrypto's name of the curve
    point: bytes  # big-endian X‖Y, as gostcrypto takes it


def is_gost_2012(signed_data: Any) -> bool:
    """Whether the (single) signer of this SignedData digests with Streebog."""
    return bool(signed_data["signer_infos"][0]["digest_algorithm"]["algorithm"].dotted in STREEBOG)


def streebog(data: bytes, size: int) -> bytes:
    return bytes(gostcrypto.gosthash.new(f"streebog{size}", data=data).digest())


def public_key(certificate: asn1_x509.Certificate) -> GostKey:
    """The GOST R 34.10-2012 key of a certificate; ValueError if it holds another kind of key."""
    info = certificate["tbs_certificate"]["subject_public_key_info"]
    oid = info["algorithm"]["algorithm"].dotted
    size = KEY_ALGORITHMS.get(oid)
    if size is None:
        raise ValueError(f"not a GOST R 34.10-2012 key ({oid})")
    parameters = KeyParameters.load(info["algorithm"]["parameters"].dump())
    curve = CURVES.get(parameters["public_key_param_set"].dotted)
    if curve is None:
        raise ValueError(f"unknown GOST curve {parameters['public_key_param_set'].dotted}")
    octets = asn1_core.OctetString.load(bytes(info["public_key"])).native
    half = size // 8
    if len(octets) != 2 * half:
        raise ValueError("GOST public key of the wrong length")
    return GostKey(size=size, curve=curve, point=octets[:half][::-1] + octets[half:][::-1])


def encode_public_key(point: bytes, size: int) -> bytes:
    """The subjectPublicKey bits for a big-endian X‖Y point: a little-endian X‖Y OCTET STRING."""
    half = size // 8
    encoded: bytes = asn1_core.OctetString(point[:half][::-1] + point[half:][::-1]).dump()
    return encoded


def signature_valid(key: GostKey, *, digest: bytes, signature: bytes) -> bool:
    """Check an s‖r signature value over a Streebog digest (read as a little-endian number)."""
    half = key.size // 8
    if len(signature) != 2 * half or len(digest) != half:
        return False
    signer = gostcrypto.gostsignature.new(
        gostcrypto.gostsignature.MODE_256 if key.size == 256 else gostcrypto.gostsignature.MODE_512,
        gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[key.curve],
    )
    try:
        return bool(
            signer.verify(bytearray(key.point), bytearray(digest[::-1]), bytearray(signature[half:] + signature[:half]))
        )
    except gostcrypto.gostsignature.GOSTSignatureError:
        return False


def sign_digest(*, private_key: bytes, curve: str, size: int, digest: bytes) -> bytes:
    """An s‖r signature value over a Streebog digest; for tests and tools that make GOST signatures."""
    signer = gostcrypto.gostsignature.new(
        gostcrypto.gostsignature.MODE_256 if size == 256 else gostcrypto.gostsignature.MODE_512,
        gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[curve],
    )
    value = bytes(signer.sign(bytearray(private_key), bytearray(digest[::-1])))
    half = size // 8
    return value[half:] + value[:half]


def point_of(*, private_key: bytes, curve: str, size: int) -> bytes:
    signer = gostcrypto.gostsignature.new(
        gostcrypto.gostsignature.MODE_256 if size == 256 else gostcrypto.gostsignature.MODE_512,
        gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[curve],
    )
    return bytes(signer.public_key_generate(bytearray(private_key)))


def _certificate_signed_by(certificate: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    oid = certificate["signature_algorithm"]["algorithm"].dotted
    size = SIGNATURE_ALGORITHMS.get(oid)
    if size is None:
        return False
    try:
        key = public_key(issuer)
    except ValueError:
        return False
    if key.size != size:
        return False
    digest = streebog(certificate["tbs_certificate"].dump(), size)
    return signature_valid(key, digest=digest, signature=bytes(certificate["signature_value"]))


def _fingerprint(certificate: asn1_x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.dump()).digest()


def _chain_problem(
    signer: asn1_x509.Certificate,
    pool: Sequence[asn1_x509.Certificate],
    roots: Sequence[asn1_x509.Certificate],
    at: dt.datetime,
) -> str | None:
    trusted = {_fingerprint(root) for root in roots}
    current = signer
    for _depth in range(8):
        if _fingerprint(current) in trusted:
            return None
        issuer = next(
            (
                candidate
                for candidate in [*roots, *pool]
                if candidate.subject == current.issuer and _certificate_signed_by(current, candidate)
            ),
            None,
        )
        if issuer is None:
            return f"untrusted: no trusted GOST certificate signed {current.subject.human_friendly}"
        validity = issuer["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= at <= validity["not_after"].native:
            return f"untrusted: certificate {issuer.subject.human_friendly} is outside its validity at signing time"
        current = issuer
    return "untrusted: the GOST certificate chain is too long"


@dataclass(frozen=True)
class GostOutcome:
    certificate: x509.Certificate | None
    signing_time: dt.datetime | None
    intact: bool
    trusted: bool
    signed_content: str | None
    problems: tuple[str, ...]


def _attribute(signed_attrs: Any, name: str) -> Any:
    for attribute in signed_attrs:
        if attribute["type"].native == name:
            return attribute["values"][0].native
    return None


def verify_signed_data(
    signed_data: Any,
    *,
    candidates: Sequence[tuple[str, bytes]],
    trust_roots: Sequence[x509.Certificate],
    expected_iin: str | None,
    validation_time: dt.datetime | None = None,
) -> GostOutcome:
    """Verify a GOST R 34.10-2012 SignedData over one of `candidates` ((label, content) pairs, document first)."""
    signer_info = signed_data["signer_infos"][0]
    digest_oid = signer_info["digest_algorithm"]["algorithm"].dotted
    size = 512 if STREEBOG[digest_oid] == "streebog512" else 256
    pool = [entry.chosen for entry in signed_data["certificates"] if entry.name == "certificate"]
    sid = signer_info["sid"]
    if sid.name != "issuer_and_serial_number":
        raise ValueError("GOST signer identified by key id; only issuer and serial number are supported")
    signer = next(
        (c for c in pool if c.issuer == sid.chosen["issuer"] and c.serial_number == sid.chosen["serial_number"].native),
        None,
    )
    if signer is None:
        raise ValueError("the signer's certificate is not in the CMS")
    certificate = x509.load_der_x509_certificate(signer.dump())
    key = public_key(signer)
    if key.size != size:
        raise ValueError("the digest and the key are of different GOST sizes")
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs is asn1_core.VOID or not len(signed_attrs):
        raise ValueError("GOST CMS without signed attributes is not supported")
    expected = _attribute(signed_attrs, "message_digest")
    embedded = signed_data["encap_content_info"]["content"]
    if embedded is not asn1_core.VOID and embedded is not None:
        candidates = [(label, content) for label, content in candidates if content == bytes(embedded)]
    matched = next((label for label, content in candidates if streebog(content, size) == expected), None)
    problems: list[str] = []
    if matched is None:
        problems.append("content_mismatch: the signature was made over different content")
    signed_bytes = signed_attrs.untag().dump()
    valid = signature_valid(key, digest=streebog(signed_bytes, size), signature=bytes(signer_info["signature"]))
    if not valid:
        problems.append("bad_signature: the signature value does not verify with the signer's certificate")
    signing_time = _attribute(signed_attrs, "signing_time")
    at = validation_time or signing_time or dt.datetime.now(dt.UTC)
    roots = [asn1_x509.Certificate.load(root.public_bytes(Encoding.DER)) for root in trust_roots]
    chain = _chain_problem(signer, pool, roots, at) if valid else None
    for problem in (
        chain,
        key_usage_problem(certificate),
        validity_problem(certificate, signing_time=signing_time or at),
        iin_problem(certificate, expected_iin=expected_iin),
    ):
        if problem is not None:
            problems.append(problem)
    return GostOutcome(
        certificate=certificate,
        signing_time=signing_time,
        intact=matched is not None,
        trusted=valid and chain is None,
        signed_content=matched,
        problems=tuple(problems),
    )


def kazakh_gost_problem(signed_data: Any) -> str | None:
    """`unsupported_algorithm` for Kazakhstan's GOST 34.310-2004 (1.2.398.3.10.*): nothing on PyPI verifies it."""
    signer_info = signed_data["signer_infos"][0]
    for field in ("digest_algorithm", "signature_algorithm"):
        oid = signer_info[field]["algorithm"].dotted
        if oid.startswith(KAZAKH_GOST_PREFIX):
            return (
                f"unsupported_algorithm: {oid} is Kazakhstan's GOST 34.310-2004, which cannot be verified here; "
                "sign with an RSA or GOST R 34.10-2012 key"
            )
    return None
