"""GOST CMS signatures: real GOST R 34.10-2012 signatures made with gostcrypto verify (or are refused for the right
reason); Kazakhstan's GOST 34.310-2004 (1.2.398.3.10.*) is answered `unsupported_algorithm`."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass

import pytest
from asn1crypto import algos, cms, core, x509
from cryptography import x509 as crypto_x509

from signing import gost
from signing.cms import verify_detached

CURVE_OID = "1.2.643.7.1.2.1.1.1"  # id-tc26-gost-3410-2012-256-paramSetA
CURVE = gost.CURVES[CURVE_OID]
SIZE = 256
HEAD_IIN = "800101300111"
DOCUMENT = b"%PDF-1.7 a transcript, as the signer's computer received it"


@dataclass(frozen=True)
class GostCredential:
    certificate: x509.Certificate
    private_key: bytes

    @property
    def crypto_certificate(self) -> crypto_x509.Certificate:
        return crypto_x509.load_der_x509_certificate(self.certificate.dump())


def _private_key() -> bytes:
    # Below q of every 256-bit TC26 curve with overwhelming probability; gostcrypto refuses out-of-range keys.
    return b"\x00" + os.urandom(31)


def _name(common_name: str, iin: str | None = None) -> x509.Name:
    attributes = {"country_name": "KZ", "common_name": common_name}
    if iin:
        attributes["serial_number"] = f"IIN{iin}"
    return x509.Name.build(attributes)


def _issue(
    *, subject: x509.Name, key: bytes, issuer: GostCredential | None, ca: bool, days: int = 365
) -> GostCredential:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    point = gost.point_of(private_key=key, curve=CURVE, size=SIZE)
    key_info = x509.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": gost.KEY_FOR_SIZE[SIZE],
                "parameters": gost.KeyParameters(
                    {"public_key_param_set": CURVE_OID, "digest_param_set": gost.DIGEST_FOR_SIZE[SIZE]}
                ),
            },
            "public_key": gost.encode_public_key(point, SIZE),
        }
    )
    usage = {"digital_signature", "key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": int.from_bytes(os.urandom(8), "big"),
            "signature": {"algorithm": gost.SIGNATURE_FOR_SIZE[SIZE]},
            "issuer": issuer.certificate.subject if issuer else subject,
            "validity": {
                "not_before": x509.Time({"utc_time": now - dt.timedelta(days=1)}),
                "not_after": x509.Time({"utc_time": now + dt.timedelta(days=days)}),
            },
            "subject": subject,
            "subject_public_key_info": key_info,
            "extensions": [
                {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
                {"extn_id": "key_usage", "critical": True, "extn_value": usage},
            ],
        }
    )
    signing_key = issuer.private_key if issuer else key
    value = gost.sign_digest(private_key=signing_key, curve=CURVE, size=SIZE, digest=gost.streebog(tbs.dump(), SIZE))
    certificate = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": gost.SIGNATURE_FOR_SIZE[SIZE]},
            "signature_value": value,
        }
    )
    return GostCredential(certificate=x509.Certificate.load(certificate.dump()), private_key=key)


@pytest.fixture(scope="module")
def gost_pki() -> dict[str, GostCredential]:
    root_key = _private_key()
    root = _issue(subject=_name("ҰКО ТЕСТ ROOT (GOST 2012)"), key=root_key, issuer=None, ca=True)
    head = _issue(subject=_name("Кафедра меңгерушісі", HEAD_IIN), key=_private_key(), issuer=root, ca=False)
    other_root = _issue(subject=_name("Бөгде CA (GOST 2012)"), key=_private_key(), issuer=None, ca=True)
    return {"root": root, "head": head, "other_root": other_root}


def gost_cms(content: bytes, signer: GostCredential, *, chain: tuple[GostCredential, ...] = ()) -> str:
    """A detached CMS as NCALayer makes with a GOST R 34.10-2012 key: signed attributes, Streebog, s‖r."""
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {
                "type": "signing_time",
                "values": [cms.Time({"utc_time": dt.datetime.now(dt.UTC).replace(microsecond=0)})],
            },
            {"type": "message_digest", "values": [gost.streebog(content, SIZE)]},
        ]
    )
    signature = gost.sign_digest(
        private_key=signer.private_key, curve=CURVE, size=SIZE, digest=gost.streebog(signed_attrs.dump(), SIZE)
    )
    digest_algorithm = algos.DigestAlgorithm({"algorithm": gost.DIGEST_FOR_SIZE[SIZE]})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signer.certificate.issuer,
                        "serial_number": signer.certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": gost.SIGNATURE_FOR_SIZE[SIZE]},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {"content_type": "data"},
            "certificates": [signer.certificate, *(c.certificate for c in chain)],
            "signer_infos": [signer_info],
        }
    )
    return base64.b64encode(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()).decode()


def test_a_gost_2012_signature_over_the_document_verifies(gost_pki: dict[str, GostCredential]) -> None:
    verdict = verify_detached(
        cms=gost_cms(DOCUMENT, gost_pki["head"]),
        trust_roots=[gost_pki["root"].crypto_certificate],
        content=DOCUMENT,
        expected_iin=HEAD_IIN,
    )
    assert verdict.problems == ()
    assert verdict.valid
    assert verdict.signed_content == "document"
    assert verdict.signer is not None
    assert verdict.signer.iin == HEAD_IIN


def test_a_gost_signature_over_another_document_is_a_content_mismatch(gost_pki: dict[str, GostCredential]) -> None:
    verdict = verify_detached(
        cms=gost_cms(b"another document", gost_pki["head"]),
        trust_roots=[gost_pki["root"].crypto_certificate],
        content=DOCUMENT,
        expected_iin=HEAD_IIN,
    )
    assert not verdict.valid
    assert verdict.problem_codes == ("content_mismatch",)


def test_a_tampered_gost_signature_value_is_a_bad_signature(gost_pki: dict[str, GostCredential]) -> None:
    info = cms.ContentInfo.load(base64.b64decode(gost_cms(DOCUMENT, gost_pki["head"])))
    signer_info = info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[5] ^= 0x01
    signer_info["signature"] = core.OctetString(bytes(value))
    verdict = verify_detached(
        cms=info.dump(force=True), trust_roots=[gost_pki["root"].crypto_certificate], content=DOCUMENT
    )
    assert not verdict.valid
    assert "bad_signature" in verdict.problem_codes


def test_a_gost_key_from_an_untrusted_authority_or_of_someone_else_is_refused(
    gost_pki: dict[str, GostCredential],
) -> None:
    untrusted = verify_detached(
        cms=gost_cms(DOCUMENT, gost_pki["head"]),
        trust_roots=[gost_pki["other_root"].crypto_certificate],
        content=DOCUMENT,
    )
    assert untrusted.problem_codes == ("untrusted",)
    someone_else = verify_detached(
        cms=gost_cms(DOCUMENT, gost_pki["head"]),
        trust_roots=[gost_pki["root"].crypto_certificate],
        content=DOCUMENT,
        expected_iin="900202400222",
    )
    assert someone_else.problem_codes == ("iin_mismatch",)


def test_kazakh_gost_34_310_is_answered_unsupported_algorithm(gost_pki: dict[str, GostCredential]) -> None:
    info = cms.ContentInfo.load(base64.b64decode(gost_cms(DOCUMENT, gost_pki["head"])))
    signer_info = info["content"]["signer_infos"][0]
    signer_info["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "1.2.398.3.10.1.3.1"})
    signer_info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "1.2.398.3.10.1.1.1.2"})
    verdict = verify_detached(
        cms=info.dump(force=True), trust_roots=[gost_pki["root"].crypto_certificate], content=DOCUMENT
    )
    assert verdict.problem_codes == ("unsupported_algorithm",)
    assert "34.310-2004" in verdict.problems[0]
