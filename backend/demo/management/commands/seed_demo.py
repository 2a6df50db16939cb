from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backend.accounts.models import OrgUnit
from backend.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create the demo university with a login for every role (password: demo); only where QUJAT_DEMO is on."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.QUJAT_DEMO:
            raise CommandError(
                "seed_demo creates users with a known password; it runs only where QUJAT_DEMO is on "
                "(the embedded default that `make run` starts), never in production."
            )
        if OrgUnit.objects.exists():
            self.stdout.write("The demo university is already there; nothing to do.")
            return
        logins = seed_demo()
        count = sum(len(v) for v in logins.by_role.values())
        self.stdout.write(self.style.SUCCESS(f"Demo university created with {count} logins."))
