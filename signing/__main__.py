"""Command line: ``python -m signing verify FILE.pdf --trust ROOT.pem``, ``verify-cms`` and ``verify-evidence``.

Exit status: 0 when everything verified, 1 when something is invalid, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from signing.cms import CmsVerdict, verify_detached
from signing.errors import CredentialError
from signing.evidence import verify_package
from signing.keys import CertificateInfo, load_trust_roots, validate_iin
from signing.verify import SignatureVerdict, verify_pdf

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

_TRUST_HELP = "trusted root certificate file, PEM (may hold several) or DER; repeatable"


class UsageError(Exception):
    """Bad arguments or unreadable input files."""


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _trust_roots(paths: Sequence[str]) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(load_trust_roots(_read(path, "trust file")))
        except CredentialError as exc:
            raise UsageError(f"{path}: {exc}") from None
    return roots


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _signer_line(signer: CertificateInfo | None) -> str:
    if signer is None:
        return "unknown"
    iin = f", IIN {signer.iin}" if signer.iin else ""
    return f"{signer.subject_common_name or '?'}{iin}; issued by {signer.issuer_common_name or '?'}"


def _print_signature(index: int, verdict: SignatureVerdict) -> None:
    time_source = "timestamp token" if verdict.signing_time_from_timestamp else "signer's clock"
    when = verdict.signing_time.isoformat() if verdict.signing_time else "unknown"
    print(f"Signature {index}: field {verdict.field_name}")
    print(f"  signer:   {_signer_line(verdict.signer)}")
    print(f"  time:     {when} ({time_source})")
    print(
        f"  intact: {_yes(verdict.intact)}  trusted: {_yes(verdict.trusted)}  "
        f"modified after signing: {_yes(verdict.changed_after_signing)}  coverage: {verdict.coverage}"
    )
    print("  VALID" if verdict.valid else "  INVALID: " + "; ".join(verdict.problems))


def _verify_pdf_command(args: argparse.Namespace) -> int:
    pdf = _read(args.file, "PDF")
    roots = _trust_roots(args.trust)
    verdict = verify_pdf(pdf=pdf, trust_roots=roots)
    for index, signature in enumerate(verdict.signatures, start=1):
        _print_signature(index, signature)
    summary = "VALID" if verdict.valid else "INVALID"
    details = "; ".join(verdict.problems)
    count = len(verdict.signatures)
    print(f"Document: {summary} ({count} signature{'s' if count != 1 else ''}, sha256 {verdict.sha256})")
    if details:
        print(f"  {details}")
    return EXIT_VALID if verdict.valid else EXIT_INVALID


def _print_cms(verdict: CmsVerdict) -> None:
    time_source = "timestamp token" if verdict.signing_time_from_timestamp else "signer's clock"
    when = verdict.signing_time.isoformat() if verdict.signing_time else "unknown"
    print(f"signer:   {_signer_line(verdict.signer)}")
    print(f"time:     {when} ({time_source})")
    print(
        f"intact: {_yes(verdict.intact)}  trusted: {_yes(verdict.trusted)}  "
        f"signed content: {verdict.signed_content or 'unknown'}"
    )
    print("VALID" if verdict.valid else "INVALID: " + "; ".join(verdict.problems))


def _verify_cms_command(args: argparse.Namespace) -> int:
    cms = _read(args.file, "CMS")
    roots = _trust_roots(args.trust)
    content = _read(args.content, "content") if args.content else None
    content_sha256 = None
    if args.content_sha256:
        try:
            content_sha256 = bytes.fromhex(args.content_sha256)
        except ValueError:
            raise UsageError("--content-sha256 must be hexadecimal") from None
        if len(content_sha256) != 32:
            raise UsageError("--content-sha256 must be 64 hexadecimal characters")
    if args.iin is not None:
        try:
            validate_iin(args.iin)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    verdict = verify_detached(
        cms=cms, trust_roots=roots, content=content, content_sha256=content_sha256, expected_iin=args.iin
    )
    _print_cms(verdict)
    return EXIT_VALID if verdict.valid else EXIT_INVALID


def _verify_evidence_command(args: argparse.Namespace) -> int:
    package = _read(args.file, "evidence package")
    verdict = verify_package(package, trust_roots=_trust_roots(args.trust))
    for line in verdict.checked:
        print(f"ok: {line}")
    if verdict.valid:
        print("Evidence package: VALID")
        return EXIT_VALID
    print(f"Evidence package: INVALID: {verdict.problem}")
    return EXIT_INVALID


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m signing", description="Verify Qujat signatures.")
    commands = parser.add_subparsers(dest="command", required=True)

    pdf = commands.add_parser("verify", help="verify every signature in a PDF")
    pdf.add_argument("file", help="the signed PDF")
    pdf.add_argument("--trust", action="append", required=True, help=_TRUST_HELP)
    pdf.set_defaults(handler=_verify_pdf_command)

    cms = commands.add_parser("verify-cms", help="verify a detached CMS (e.g. from NCALayer) over a file")
    cms.add_argument("file", help="the CMS: DER, base64 or PEM")
    content = cms.add_mutually_exclusive_group(required=True)
    content.add_argument("--content", help="the signed document")
    content.add_argument("--content-sha256", help="the signed document's SHA-256 in hex")
    cms.add_argument("--trust", action="append", required=True, help=_TRUST_HELP)
    cms.add_argument("--iin", help="the 12-digit IIN the signer's certificate must carry")
    cms.set_defaults(handler=_verify_cms_command)

    evidence = commands.add_parser("verify-evidence", help="verify a case's evidence package (ZIP) offline")
    evidence.add_argument("file", help="the evidence package, a ZIP")
    evidence.add_argument("--trust", action="append", required=True, help=_TRUST_HELP)
    evidence.set_defaults(handler=_verify_evidence_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    # Names are Kazakh/Russian; never let a non-UTF-8 terminal turn a verdict into a traceback.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    # pyHanko logs every failed check with a traceback; the verdict already says what failed.
    for noisy in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        status: int = args.handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(main())
