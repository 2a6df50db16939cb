from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.workflow.deployment import default_diagrams, deploy_file, prepare
from backend.workflow.engine import DiagramError
from backend.workflow.services import instances_restage


class Command(BaseCommand):
    help = "Deploy BPMN diagrams (default: every bpmn/*.bpmn); a changed file becomes a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--check", action="store_true", help="Check the files as deployment would; store nothing.")

    def handle(self, *args: Any, files: list[Path], check: bool = False, **options: Any) -> None:
        failed = 0
        for path in files or default_diagrams():
            if not path.is_file():
                self.stderr.write(f"{path}: no such file")
                failed += 1
                continue
            try:
                if check:
                    keys = [item["key"] for item in prepare(path)]
                    self.stdout.write(f"{path}: {', '.join(keys)} would deploy")
                    continue
                results = deploy_file(path)
            except DiagramError as exc:
                self.stderr.write(f"refused {exc}")
                failed += 1
                continue
            for result in results:
                state = "deployed" if result.created else "unchanged"
                self.stdout.write(f"{path}: {result.key} v{result.version} {state}")
        if not check:
            instances_restage()
        if failed:
            raise CommandError(f"{failed} file(s) refused; nothing from them was deployed")
