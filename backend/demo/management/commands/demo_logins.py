from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from backend.demo.seed import DEMO_PASSWORD, DEMO_SIGNING_PASSPHRASE, demo_logins


def _collapse(usernames: list[str]) -> str:
    if len(usernames) <= 4:
        return ", ".join(usernames)
    return f"{usernames[0]}, {usernames[1]} … {usernames[-1]} ({len(usernames)})"


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = demo_logins()
        if not logins.by_role:
            self.stdout.write("No demo logins (run seed_demo).")
            return
        site = settings.QUJAT_SITE_URL
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Qujat is starting on {site} — demo logins, password: {DEMO_PASSWORD}"))
        width = max(len(role) for role in logins.by_role)
        for role, usernames in logins.by_role.items():
            self.stdout.write(f"  {role.ljust(width)}  {_collapse(usernames)}")
        self.stdout.write(f"  signers' signing passphrase: {DEMO_SIGNING_PASSPHRASE}")
        self.stdout.write(f"  e-mails sent to demo users are written to {settings.EMAIL_FILE_PATH}/")
        self.stdout.write("")
