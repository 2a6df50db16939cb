"""What a signer is told when a signature is refused: each verifier problem code in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _


def _messages() -> dict[str, str]:
    # Built per call so the texts follow the language active for this request.
    return {
        "content_mismatch": _("The signature was made over a different document (or another version of this one)."),
        "bad_signature": _("The signature value does not match the certificate in it: the signature is damaged."),
        "untrusted": _("The certificate does not lead to a certification authority the university trusts."),
        "revoked": _("The certificate has been revoked."),
        "bad_key_usage": _("This certificate's key may not be used for signing documents."),
        "expired_at_signing": _("The certificate had expired when the signature was made."),
        "not_yet_valid_at_signing": _("The certificate was not yet valid when the signature was made."),
        "iin_mismatch": _("The key belongs to someone else: the IIN in the certificate is not yours."),
        "timestamp_invalid": _("The signature's timestamp is damaged or comes from an untrusted authority."),
        "unsupported_algorithm": _(
            "This signature algorithm (Kazakh GOST 34.310-2004) cannot be checked yet; sign with your RSA or "
            "GOST R 34.10-2012 key. The task stays open."
        ),
        "malformed": _("This is not a CMS signature NCALayer makes."),
    }


def problem_code(problem: str) -> str:
    """The machine code of a verifier problem ("code: explanation")."""
    return problem.split(":", 1)[0].strip()


def problem_message(problem: str) -> str:
    """A verifier problem for the signer: the translated reason, then the verifier's own words."""
    code = problem_code(problem)
    explanation = problem.split(":", 1)[1].strip() if ":" in problem else ""
    message = _messages().get(code)
    if message is None:
        return problem
    return f"{message} ({explanation})" if explanation else message
