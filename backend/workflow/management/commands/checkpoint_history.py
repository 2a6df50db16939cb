from typing import Any

from django.core.management.base import BaseCommand

from backend.workflow.checkpoints import checkpoint_create


class Command(BaseCommand):
    help = (
        "Sign (CMS, the university's system certificate) the head of every case's history chain and append "
        "the checkpoint to QUJAT_CHECKPOINT_DIR; files there are created once and never rewritten."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path = checkpoint_create()
        self.stdout.write(self.style.SUCCESS(f"Checkpoint written: {path} (signature: {path}.p7s)"))
