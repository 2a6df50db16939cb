"""Outgoing numbers (исх. № / шығ. №): gapless and unique per document kind and year.

A number is taken by locking the (kind, year) row and incrementing it inside the caller's transaction:
concurrent callers queue on the lock, and a rollback gives the number back, so the sequence never has
holes. Other apps number their own kinds with the same function.
"""

from __future__ import annotations

from django.db import transaction

from .models import DocumentNumberSequence


def next_number(*, kind: str, year: int) -> int:
    """The next number of the kind's sequence for the year; call it inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the number would be committed at once and lost if the caller then fails.
        raise RuntimeError("outgoing numbers are allocated inside the transaction that uses them")
    # get_or_create copes with two first-of-the-year allocations racing to create the row; the
    # FOR UPDATE lock then queues everyone else (SQLite's IMMEDIATE transactions serialize anyway).
    sequence, _created = DocumentNumberSequence.objects.select_for_update().get_or_create(kind=kind, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def format_number(*, prefix: str, year: int, number: int) -> str:
    """«ТР-2026/000154»: the kind's prefix, the year and the number padded to six digits."""
    return f"{prefix}-{year}/{number:06d}"
