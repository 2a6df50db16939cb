"""Signed checkpoints of every history chain's head, kept in a file store the application only appends to.

A checkpoint is a JSON file listing, for each case, its event count and the hash of its last event, with a
detached CMS signature beside it (`<name>.json.p7s`) made with the university's system certificate (and an
RFC 3161 timestamp when `QUJAT_TSA_URL` is set). Files are created once (`O_EXCL`), made read-only and never
rewritten; each checkpoint also names the SHA-256 of the one before it. Someone who can change the database
can re-hash a case's tail and move its anchor, but cannot make the last checkpoint agree: `verify_history`
compares every chain with the latest checkpoint whose signature is valid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from .history import BrokenChain, instance_broken_chain
from .models import HistoryEvent, ProcessInstance

logger = logging.getLogger(__name__)

FORMAT = "qujat-history-checkpoint/1"


def checkpoint_dir() -> Path:
    return Path(settings.QUJAT_CHECKPOINT_DIR)


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    created_at: str
    previous: str
    chains: dict[int, tuple[int, str]]
    sha256: str


@dataclass
class CheckpointCheck:
    """What verifying the checkpoint store found: the checkpoint chains are compared with, and every problem."""

    latest_valid: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)


def _write_once(path: Path, data: bytes) -> None:
    """Create the file; never open an existing one (a name that exists is an error, not an overwrite)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _files() -> list[Path]:
    folder = checkpoint_dir()
    if not folder.is_dir():
        return []
    return sorted(folder.glob("checkpoint-*.json"))


def checkpoint_create(*, now: datetime | None = None) -> Path:
    """Sign the heads of every history chain and append them to the checkpoint store; the new file's path."""
    from backend.signatures.system import system_sign

    moment = now or timezone.now()
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    existing = _files()
    previous = hashlib.sha256(existing[-1].read_bytes()).hexdigest() if existing else ""
    chains = [
        [pk, count, head]
        for pk, count, head in ProcessInstance.objects.order_by("pk").values_list("pk", "history_count", "history_head")
    ]
    body = {"format": FORMAT, "created_at": moment.isoformat(), "previous": previous, "chains": chains}
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    cms = system_sign(data)
    stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"checkpoint-{stamp}.json"
    # The signature first: a checkpoint file without its signature is never left behind looking complete.
    _write_once(path.with_name(path.name + ".p7s"), cms)
    _write_once(path, data)
    logger.info("history checkpoint %s: %s chains", path.name, len(chains))
    return path


def _load(path: Path) -> Checkpoint:
    data = path.read_bytes()
    body = json.loads(data)
    if body.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    chains = {int(pk): (int(count), str(head)) for pk, count, head in body["chains"]}
    return Checkpoint(path, body["created_at"], body.get("previous", ""), chains, hashlib.sha256(data).hexdigest())


def checkpoints_check() -> CheckpointCheck:
    """The latest checkpoint whose signature holds, and the name of each checkpoint that does not."""
    from backend.signatures.system import system_verify

    result = CheckpointCheck()
    files = _files()
    for path in reversed(files):
        signature = path.with_name(path.name + ".p7s")
        if not signature.exists():
            result.problems.append(f"checkpoint {path.name}: its signature file is missing")
            continue
        problem = system_verify(path.read_bytes(), signature.read_bytes())
        if problem:
            result.problems.append(f"checkpoint {path.name}: signature invalid ({problem})")
            continue
        try:
            result.latest_valid = _load(path)
        except (ValueError, KeyError, TypeError) as error:
            result.problems.append(f"checkpoint {path.name}: unreadable ({error})")
            continue
        break
    if result.latest_valid is not None:
        index = files.index(result.latest_valid.path)
        if index > 0:
            before = hashlib.sha256(files[index - 1].read_bytes()).hexdigest()
            if result.latest_valid.previous != before:
                result.problems.append(
                    f"checkpoint {result.latest_valid.path.name}: the checkpoint before it was changed or removed"
                )
    return result


def _against_checkpoint(instance_id: int, recorded: tuple[int, str], checkpoint: Checkpoint) -> BrokenChain | None:
    count, head = recorded
    name = checkpoint.path.name
    instance = ProcessInstance.objects.filter(pk=instance_id).only("pk", "history_count").first()
    if instance is None:
        return BrokenChain(instance_id, 0, f"the case was deleted after checkpoint {name} ({count} events)", "deleted")
    if count == 0:
        return None
    event = HistoryEvent.objects.filter(instance_id=instance_id, seq=count).only("hash").first()
    if event is None or instance.history_count < count:
        return BrokenChain(
            instance_id,
            count,
            f"events were deleted after checkpoint {name}, which recorded {count} events "
            f"(the case now records {instance.history_count})",
            "deleted",
        )
    if event.hash != head:
        return BrokenChain(
            instance_id,
            count,
            f"the history up to this event was re-hashed after checkpoint {name}: the head it signed differs",
            "rehashed",
        )
    return None


def history_verify() -> tuple[list[BrokenChain], list[str]]:
    """Every broken chain (against its anchor, then against the latest valid checkpoint) and every bad checkpoint."""
    check = checkpoints_check()
    broken: dict[int, BrokenChain] = {}
    instances = ProcessInstance.objects.only("pk", "history_count", "history_head").order_by("pk")
    for instance in instances.iterator():
        result = instance_broken_chain(instance)
        if result:
            broken[instance.pk] = result
    if check.latest_valid is not None:
        for instance_id, recorded in sorted(check.latest_valid.chains.items()):
            if instance_id in broken:
                continue
            result = _against_checkpoint(instance_id, recorded, check.latest_valid)
            if result:
                broken[instance_id] = result
    return [broken[pk] for pk in sorted(broken)], check.problems


def checkpoint_summary() -> dict[str, Any]:
    """How many checkpoints there are and when the last was made (for the command's output)."""
    files = _files()
    cases = ProcessInstance.objects.aggregate(n=Count("pk"))["n"]
    return {"checkpoints": len(files), "last": files[-1].name if files else None, "cases": cases}
