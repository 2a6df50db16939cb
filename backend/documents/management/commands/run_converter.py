from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.documents.pool import ConverterPool


class Command(BaseCommand):
    help = (
        "Serve PDF conversions: a queue in front of a small pool of warm LibreOffices (unoserver), each "
        "replaced when it dies or hangs. Run it as a managed process (honcho, systemd); stops on SIGTERM."
    )
    # Converting needs neither the database nor the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interface", default=None, help="address to listen on (default QUJAT_CONVERTER_HOST)")
        parser.add_argument("--port", type=int, default=None, help="port to listen on (default QUJAT_CONVERTER_PORT)")
        parser.add_argument(
            "--workers", type=int, default=None, help="warm LibreOffices (default QUJAT_CONVERTER_WORKERS)"
        )
        parser.add_argument(
            "--queue", type=int, default=None, help="requests that may wait at once (default QUJAT_CONVERTER_QUEUE)"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="seconds one conversion may take before its LibreOffice is replaced (default QUJAT_CONVERTER_TIMEOUT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = settings.QUJAT_CONVERTER_PYTHON
        if not Path(python).is_file():
            raise CommandError(
                f"QUJAT_CONVERTER_PYTHON={python} does not exist: unoserver runs under the Python that has "
                "LibreOffice's uno module (`make setup` creates .venv-uno)"
            )
        port = options["port"] or settings.QUJAT_CONVERTER_PORT
        pool = ConverterPool(
            host=options["interface"] or settings.QUJAT_CONVERTER_HOST,
            port=port,
            python=python,
            profiles=Path(settings.VAR_DIR) / f"converter-{port}",
            workers=options["workers"] or settings.QUJAT_CONVERTER_WORKERS,
            conversion_timeout=options["timeout"] or settings.QUJAT_CONVERTER_TIMEOUT,
            queue_limit=options["queue"] or settings.QUJAT_CONVERTER_QUEUE,
            queue_wait=settings.QUJAT_CONVERTER_QUEUE_WAIT,
        )
        try:
            pool.run()
        except OSError as error:
            raise CommandError(f"cannot serve on port {port}: {error}") from error
