from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.documents.supervisor import ConverterEndpoint, ConverterSupervisor


class Command(BaseCommand):
    help = (
        "Keep a warm LibreOffice (unoserver) running for PDF conversion: restart it when it dies or hangs, "
        "stop it cleanly on SIGTERM/SIGINT."
    )
    # Supervising LibreOffice needs neither the database nor the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interface",
            default=None,
            help="address the XML-RPC server listens on (default QUJAT_CONVERTER_HOST)",
        )
        parser.add_argument("--port", type=int, default=None, help="XML-RPC port (default QUJAT_CONVERTER_PORT)")
        parser.add_argument(
            "--uno-port",
            type=int,
            default=None,
            help="LibreOffice's UNO port (default QUJAT_CONVERTER_UNO_PORT)",
        )
        parser.add_argument(
            "--idle-timeout",
            type=float,
            default=None,
            help="stop after this many seconds without a conversion (default: never)",
        )
        parser.add_argument(
            "--exit-if-running",
            action="store_true",
            help="exit at once when another supervisor holds the port (default: wait and take over)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = settings.QUJAT_CONVERTER_PYTHON
        if not Path(python).is_file():
            raise CommandError(
                f"QUJAT_CONVERTER_PYTHON={python} does not exist: unoserver runs under the Python that has "
                "LibreOffice's uno module (`make setup` creates .venv-uno)"
            )
        configured = ConverterEndpoint.from_settings()
        interface = options["interface"] or configured.host
        endpoint = ConverterEndpoint(
            host=interface,
            port=options["port"] or configured.port,
            uno_port=options["uno_port"] or configured.uno_port,
        )
        supervisor = ConverterSupervisor(
            endpoint=endpoint,
            interface=interface,
            python=python,
            conversion_timeout=int(settings.QUJAT_CONVERTER_TIMEOUT),
            idle_timeout=options["idle_timeout"],
        )
        supervisor.run(wait_for_lock=not options["exit_if_running"])
