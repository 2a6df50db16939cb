from typing import Any

from django.core.management.base import BaseCommand

from backend.monitor.facts import facts_refresh


class Command(BaseCommand):
    help = "Bring the process monitor's rollups up to date (beat does it every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = facts_refresh(rounds=100000)
        self.stdout.write(f"{written} rows written")
