from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backend.workflow.checkpoints import history_verify

WHAT = {
    "edited": "an event was edited",
    "deleted": "events were deleted",
    "inserted": "an event was inserted",
    "rehashed": "the tail was re-hashed after a checkpoint",
}


class Command(BaseCommand):
    help = (
        "Check every case's hash-chained history against its anchor and against the latest validly signed "
        "checkpoint; name each break (edited, deleted, inserted event, tail re-hashed after a checkpoint, a "
        "checkpoint whose signature is invalid) and exit non-zero."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        broken, checkpoint_problems = history_verify()
        for chain in broken:
            self.stderr.write(
                f"instance {chain.instance_id}: event {chain.seq} {chain.reason} [{WHAT.get(chain.kind, chain.kind)}]"
            )
        for problem in checkpoint_problems:
            self.stderr.write(problem)
        if broken or checkpoint_problems:
            parts = []
            if broken:
                parts.append(f"{len(broken)} instance(s) have a broken history")
            if checkpoint_problems:
                parts.append(f"{len(checkpoint_problems)} checkpoint problem(s)")
            raise CommandError("; ".join(parts))
        self.stdout.write(self.style.SUCCESS("Every history chain is intact."))
