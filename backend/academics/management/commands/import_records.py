from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.academics.importing import IMPORTERS, ImportRejected, read_table, records_import
from backend.core.exceptions import ValidationFailed


class Command(BaseCommand):
    help = "Import groups, students, disciplines or grades from a CSV/XLSX export of the AIS (all rows or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, kind: str, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            result = records_import(kind=kind, rows=read_table(file))
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.message) from None
        except (ValidationFailed, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{kind}: {result.created} created, {result.updated} updated"))
