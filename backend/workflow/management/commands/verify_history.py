from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backend.workflow.history import broken_chains


class Command(BaseCommand):
    help = "Check every instance's hash-chained history; name each broken one and exit non-zero."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = broken_chains()
        for chain in broken:
            self.stderr.write(f"instance {chain.instance_id}: event {chain.seq} {chain.reason}")
        if broken:
            raise CommandError(f"{len(broken)} instance(s) have a broken history")
        self.stdout.write(self.style.SUCCESS("Every history chain is intact."))
