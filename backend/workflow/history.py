"""The tamper-evident history: each event's hash covers its content and the previous event's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from backend.accounts.models import User

from .models import HistoryEvent, ProcessInstance

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def event_hash(
    *, instance_id: int, seq: int, kind: str, actor_id: int | None, at: datetime, payload: Any, prev_hash: str
) -> str:
    body = {
        "instance": instance_id,
        "seq": seq,
        "kind": kind,
        "actor": actor_id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "payload": payload,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class HistoryChain:
    """Appends events to one instance's chain, holding the instance's row lock for its transaction."""

    def __init__(self, instance: ProcessInstance, *, locked: bool = False) -> None:
        self.instance = instance
        self.locked = locked

    def append(self, *, kind: str, actor: User | None = None, payload: dict[str, Any] | None = None) -> HistoryEvent:
        """Append one event; call it inside the transaction that makes the change it records."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("history events are written inside the transaction of the change they record")
        if not self.locked:
            # Appends to one instance are serialized by its row lock.
            ProcessInstance.objects.select_for_update().filter(pk=self.instance.pk).values_list("pk").first()
            self.locked = True
        # The tail is read each time: services called while an engine step runs append to the same chain.
        last = HistoryEvent.objects.filter(instance=self.instance).order_by("-seq").values("seq", "hash").first()
        seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
        # Payloads go through JSON once so the stored value and the hashed value are the same.
        clean = json.loads(canonical_json(payload or {}))
        at = timezone.now()
        digest = event_hash(
            instance_id=self.instance.pk,
            seq=seq,
            kind=kind,
            actor_id=actor.pk if actor else None,
            at=at,
            payload=clean,
            prev_hash=prev,
        )
        return HistoryEvent.objects.create(
            instance=self.instance, seq=seq, kind=kind, actor=actor, at=at, payload=clean, prev_hash=prev, hash=digest
        )


def history_record(
    *, instance: ProcessInstance, kind: str, actor: User | None = None, payload: dict[str, Any] | None = None
) -> HistoryEvent:
    """Append one event; call it inside the transaction that makes the change it records."""
    return HistoryChain(instance).append(kind=kind, actor=actor, payload=payload)


@dataclass(frozen=True)
class BrokenChain:
    instance_id: int
    seq: int
    reason: str


def verify_chain(events: Iterable[HistoryEvent]) -> BrokenChain | None:
    """The first event whose hash or link does not hold, or None when the chain is intact."""
    prev = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            return BrokenChain(event.instance_id, event.seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return BrokenChain(event.instance_id, event.seq, "does not link to the previous event")
        recomputed = event_hash(
            instance_id=event.instance_id,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            at=event.at,
            payload=event.payload,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return BrokenChain(event.instance_id, event.seq, "content does not match its hash")
        prev = event.hash
        expected_seq += 1
    return None


def broken_chains() -> list[BrokenChain]:
    """Every instance whose history chain is broken."""
    broken = []
    instance_ids = (
        HistoryEvent.objects.values("instance_id").annotate(last=Max("seq")).values_list("instance_id", flat=True)
    )
    for instance_id in instance_ids.order_by("instance_id"):
        result = verify_chain(HistoryEvent.objects.filter(instance_id=instance_id).order_by("seq").iterator())
        if result:
            broken.append(result)
    return broken
