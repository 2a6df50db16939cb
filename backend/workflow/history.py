"""The tamper-evident history: each event's hash covers its content and the previous event's hash."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.rows import Columns, assignments
from signing import evidence

from .models import HistoryEvent, ProcessInstance

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def event_hash(
    *, instance_id: int, seq: int, kind: str, actor_id: int | None, at: datetime, payload: Any, prev_hash: str
) -> str:
    """The event's hash as signing.evidence defines it (the offline check of evidence packages recomputes it)."""
    return evidence.event_hash(
        instance_id=instance_id,
        seq=seq,
        kind=kind,
        actor_id=actor_id,
        at=event_time(at),
        payload=payload,
        prev=prev_hash,
    )


def event_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


class HistoryChain:
    """Appends events to one instance's chain, holding the instance's row lock for its transaction.

    The chain's head (event count and last hash) lives on the locked instance row and moves with every
    append, in the same transaction, so the chain is anchored: a deleted tail no longer looks complete.
    The chain carries the head it last wrote (or read with the lock) and moves it with a compare-and-set
    in the statement that inserts the event; services that append to the same case through another object,
    or a rolled-back savepoint, make the compare fail, and only then is the head read again and the events
    hashed again on it.

    An event appended with `defer=True` is hashed at once and written with the next write of the chain: the
    next undeferred event, `flush()`, or `save()`, which also saves the instance's own columns, in one
    statement on PostgreSQL. The caller flushes before running code that could append through another object.
    """

    def __init__(self, instance: ProcessInstance, *, locked: bool = False) -> None:
        self.instance = instance
        self.locked = locked
        self.head: tuple[int, str] | None = (instance.history_count, instance.history_head) if locked else None
        self.pending: list[HistoryEvent] = []

    def _read_head(self) -> tuple[int, str]:
        rows = ProcessInstance.objects.filter(pk=self.instance.pk)
        if not self.locked:
            # Appends to one instance are serialized by its row lock.
            rows = rows.select_for_update()
            self.locked = True
        count, head = rows.values_list("history_count", "history_head").get()
        return count, head

    def append(
        self, *, kind: str, actor: User | None = None, payload: dict[str, Any] | None = None, defer: bool = False
    ) -> HistoryEvent:
        """Append one event; call it inside the transaction that makes the change it records."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("history events are written inside the transaction of the change they record")
        # Payloads go through JSON once so the stored value and the hashed value are the same.
        event = HistoryEvent(
            instance=self.instance,
            kind=kind,
            actor=actor,
            at=timezone.now(),
            payload=json.loads(canonical_json(payload or {})),
        )
        if self.head is None:
            self.head = self._read_head()
        self._link(event)
        self.pending.append(event)
        if not defer:
            self.flush()
        return event

    def _link(self, event: HistoryEvent) -> None:
        assert self.head is not None  # noqa: S101 - read before linking
        count, prev = self.head
        event.seq, event.prev_hash = count + 1, prev
        event.hash = event_hash(
            instance_id=self.instance.pk,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            at=event.at,
            payload=event.payload,
            prev_hash=prev,
        )
        self.head = (event.seq, event.hash)

    def flush(self) -> None:
        """Write the deferred events (the instance's head moves with them)."""
        if self.pending:
            self.save({})

    def save(self, columns: dict[str, Any], *, version: int | None = None) -> bool:
        """Write the deferred events and set the instance's `columns` (field name → value), in one statement
        on PostgreSQL; False (and nothing written) when `version` is given and the row no longer has it."""
        while True:
            base = (self.pending[0].seq - 1, self.pending[0].prev_hash) if self.pending else None
            written = _write(self.instance, columns, self.pending, base=base, version=version)
            if written is not None:
                break
            # Nothing written: the version moved (the caller's conflict) or someone else moved the head in this
            # transaction, after which the deferred events are hashed again on the head it left.
            if (
                version is not None
                and ProcessInstance.objects.filter(pk=self.instance.pk, version=version).count() == 0
            ):
                return False
            self.head = self._read_head()
            for event in self.pending:
                self._link(event)
        for event, pk in zip(self.pending, written, strict=True):
            event.pk = pk
            event._state.adding = False
        self.pending = []
        if self.head is not None:
            self.instance.history_count, self.instance.history_head = self.head
        return True


# An event's columns but its case's, which the statement takes from the row it has just updated.
_EVENT_COLUMNS = Columns(HistoryEvent, leave_out=["instance"])


def _write(
    instance: ProcessInstance,
    columns: dict[str, Any],
    events: list[HistoryEvent],
    *,
    base: tuple[int, str] | None,
    version: int | None,
) -> list[int] | None:
    """Update the instance row (its columns, its head moved from `base` to the last event) and insert the
    events; None when the row did not match. One statement on PostgreSQL, two elsewhere."""
    changes = dict(columns)
    where: dict[str, Any] = {"pk": instance.pk}
    if version is not None:
        where["version"] = version
    if base is not None:
        where["history_count"], where["history_head"] = base
        changes["history_count"], changes["history_head"] = events[-1].seq, events[-1].hash
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        if changes and not ProcessInstance.objects.filter(**where).update(**changes):
            return None
        return [event.pk for event in HistoryEvent.objects.bulk_create(events)] if events else []
    setting, values = assignments(connection, ProcessInstance, changes)
    conditions = " AND ".join(f"{'id' if name == 'pk' else name} = %s" for name in where)
    update = f"UPDATE {ProcessInstance._meta.db_table} SET {setting} WHERE {conditions} RETURNING id"  # noqa: S608 - names from the models
    parameters = [*values, *where.values()]
    with connection.cursor() as cursor:
        if not events:
            cursor.execute(update, parameters)
            return [] if cursor.fetchone() is not None else None
        names, rows, row_parameters = _EVENT_COLUMNS.rows(connection, events, alias="e")
        cursor.execute(
            f"WITH head AS ({update}) INSERT INTO {HistoryEvent._meta.db_table} (instance_id, {names}) "  # noqa: S608 - names from the models
            f"SELECT head.id, e.* FROM head, {rows} ORDER BY e.seq RETURNING id, seq",
            [*parameters, *row_parameters],
        )
        ids = {seq: pk for pk, seq in cursor.fetchall()}
    return [ids[event.seq] for event in events] if ids else None


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
    # What was done to the chain: "edited", "deleted", "inserted" or "rehashed" (after a checkpoint).
    kind: str = "edited"


# What an event's hash covers, and its link, in the order ChainRow holds them: all the chain check reads.
CHAIN_COLUMNS = ("instance_id", "seq", "kind", "actor_id", "at", "payload", "prev_hash", "hash")
ChainRow = tuple[int, int, str, int | None, datetime, Any, str, str]


def verify_chain(
    events: Iterable[HistoryEvent], *, anchor: tuple[int, str] | None = None, instance_id: int | None = None
) -> BrokenChain | None:
    """The first event whose hash or link does not hold, or None when the chain is intact.

    With the instance's anchor (event count, last hash) a missing tail (or no events at all) is found too.
    """
    rows = ((e.instance_id, e.seq, e.kind, e.actor_id, e.at, e.payload, e.prev_hash, e.hash) for e in events)
    return verify_chain_rows(rows, anchor=anchor, instance_id=instance_id)


def verify_chain_rows(
    rows: Iterable[ChainRow], *, anchor: tuple[int, str] | None = None, instance_id: int | None = None
) -> BrokenChain | None:
    """verify_chain over plain rows of CHAIN_COLUMNS (as values_list reads them: no model built per event)."""
    prev = GENESIS
    expected_seq = 1
    seen: set[str] = set()
    for event_instance, seq, kind, actor_id, at, payload, prev_hash, digest in rows:
        instance_id = event_instance
        if seq != expected_seq:
            return BrokenChain(event_instance, seq, f"event {expected_seq} is missing", "deleted")
        if prev_hash != prev:
            # Linking to an earlier event than the one before it: something was put in between; linking to
            # nothing that is there: the event before it was deleted (and the later ones renumbered) or edited.
            what = "inserted" if prev_hash in seen else "deleted"
            return BrokenChain(event_instance, seq, "does not link to the previous event", what)
        recomputed = event_hash(
            instance_id=event_instance,
            seq=seq,
            kind=kind,
            actor_id=actor_id,
            at=at,
            payload=payload,
            prev_hash=prev_hash,
        )
        if recomputed != digest:
            return BrokenChain(event_instance, seq, "content does not match its hash", "edited")
        seen.add(prev)
        prev = digest
        expected_seq += 1
    if anchor is not None:
        count, head = anchor
        found = expected_seq - 1
        if found < count:
            after = count - found - 1
            reason = "is missing at the end" if not after else f"and the {after} event(s) after it are missing"
            return BrokenChain(instance_id or 0, found + 1, f"{reason} (the case records {count} events)", "deleted")
        if found > count:
            return BrokenChain(
                instance_id or 0, count + 1, f"was added after the case's last event (#{count})", "inserted"
            )
        if prev != head:
            return BrokenChain(instance_id or 0, found, "does not match the head the case records", "edited")
    return None


def chain_rows(instance: ProcessInstance) -> list[ChainRow]:
    """The instance's events as plain rows of CHAIN_COLUMNS, oldest first, in one round trip.

    Read whole rather than through a server-side cursor: a case holds hundreds of events, and a cursor costs a
    transaction and a round trip per chunk.
    """
    rows = HistoryEvent.objects.filter(instance_id=instance.pk).order_by("seq").values_list(*CHAIN_COLUMNS)
    return list(rows)


def instance_broken_chain(instance: ProcessInstance, rows: list[ChainRow] | None = None) -> BrokenChain | None:
    """Check one instance's chain against its anchor (over `rows` when the caller has read them already)."""
    return verify_chain_rows(
        chain_rows(instance) if rows is None else rows,
        anchor=(instance.history_count, instance.history_head),
        instance_id=instance.pk,
    )


def broken_chains() -> list[BrokenChain]:
    """Every instance whose history chain is broken, missing events at its end included."""
    broken = []
    instances = ProcessInstance.objects.only("pk", "history_count", "history_head").order_by("pk")
    for instance in instances.iterator():
        result = instance_broken_chain(instance)
        if result:
            broken.append(result)
    return broken
