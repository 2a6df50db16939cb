from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError
from backend.signatures.services import seal_certificate_issue, signer_certificate_import, signer_certificate_issue


class Command(BaseCommand):
    help = (
        "Give a person a signing certificate: issued by the university CA, or imported from their .p12 "
        "(--p12 FILE; the password is read from the environment variable named by --password-env)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--position", default="")
        parser.add_argument("--p12", type=Path)
        parser.add_argument("--password-env", default="QUJAT_P12_PASSWORD")
        parser.add_argument(
            "--seal", action="store_true", help="issue the university's e-seal, kept by this person (its custodian)"
        )

    def handle(
        self,
        *args: Any,
        username: str,
        position: str,
        p12: Path | None,
        password_env: str,
        seal: bool = False,
        **options: Any,
    ) -> None:
        import os

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username}")
        try:
            if p12:
                password = os.environ.get(password_env)
                certificate = signer_certificate_import(
                    user=user, p12=p12.read_bytes(), password=password.encode() if password else None
                )
            elif seal:
                certificate = seal_certificate_issue(custodian=user)
            else:
                certificate = signer_certificate_issue(user=user, position=position)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{username}: {certificate.subject} valid to {certificate.not_after:%Y-%m-%d} "
            f"(SHA-256 {certificate.fingerprint})"
        )
