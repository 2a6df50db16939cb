from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backend.accounts.models import OrgUnit
from backend.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create the demo university with a login for every role (password: demo). Refuses with DEBUG off."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with a known password; it runs only with DEBUG on.")
        if OrgUnit.objects.exists():
            self.stdout.write("The demo university is already there; nothing to do.")
            return
        logins = seed_demo()
        count = sum(len(v) for v in logins.by_role.values())
        self.stdout.write(self.style.SUCCESS(f"Demo university created with {count} logins."))
