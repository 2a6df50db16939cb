from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backend.signatures.services import pki_ensure


class Command(BaseCommand):
    help = "Write the university's root certificate (PEM), e.g. for `python -m signing verify FILE --trust ROOT.pem`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        root, _issuing = pki_ensure()
        out.write_text(root.certificate_pem)
        self.stdout.write(f"wrote {out} (SHA-256 {root.fingerprint})")
