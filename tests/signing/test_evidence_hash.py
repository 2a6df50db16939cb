"""An event's hash is the SHA-256 of canonical_json of the event: the quick way event_hash writes that text for the
product's own events must give the very bytes canonical_json gives, or stored chains would stop verifying."""

from __future__ import annotations

import hashlib
import random
import string
from typing import Any

import pytest

from signing.evidence import GENESIS, canonical_json, event_hash

# Characters JSON escapes or writes as they are: quotes, backslashes, control characters, DEL, Cyrillic and
# Kazakh letters, CJK, an emoji (outside the BMP), line and paragraph separators, a byte order mark.
ALPHABET = string.printable + '"\\\x00\x01\x1f\x7f\x80\u00e9\u04d9\u049b\u0436\u4e2d\U0001f600\u2028\u2029\ufeff'


def by_the_book(**event: Any) -> str:
    """The definition: canonical_json of the event's object, keys sorted, hashed."""
    body = {
        "instance": event["instance_id"],
        "seq": event["seq"],
        "kind": event["kind"],
        "actor": event["actor_id"],
        "at": event["at"],
        "payload": event["payload"],
        "prev": event["prev"],
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 12)))


def value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 7, 2**31, -(2**63), 2**64 + 1, 10**30])
    if choice == 3:
        return rng.choice([0.0, -0.0, 0.1, 1.5, 1e16, 1e-7, -2.5e300, 123456789.125, rng.random()])
    if choice in (4, 5):
        return text(rng)
    if choice == 6:
        return [value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {text(rng): value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def an_event(rng: random.Random) -> dict[str, Any]:
    return {
        "instance_id": rng.randrange(1, 10**7),
        "seq": rng.randrange(1, 10**4),
        "kind": rng.choice(["started", "completed", "task_created", "note", text(rng)]),
        "actor_id": rng.choice([None, rng.randrange(1, 10**6)]),
        "at": "2026-12-02T08:10:07.123456+00:00",
        "payload": {text(rng): value(rng) for _ in range(rng.randrange(0, 8))},
        "prev": rng.choice([GENESIS, hashlib.sha256(text(rng).encode()).hexdigest()]),
    }


def test_the_quick_text_is_canonical_json_byte_for_byte() -> None:
    rng = random.Random(15)  # noqa: S311 - reproducible test data, not secrets
    for _ in range(5000):
        event = an_event(rng)
        assert event_hash(**event) == by_the_book(**event), event


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"task": 12, "title": {"ru": "Рассмотрение заведующим", "kk": "Меңгерушінің қарауы", "en": "Head's review"}},
        {"data": {"comment": 'He said "no"\\\n\tagain', "days": 3, "ok": True, "score": 87.5}, "acting_for": None},
        {"b": 1, "a": [3, {"z": None, "y": [], "x": {}}], "A": "", "é": "ö", "ә": "\u2028"},
        ["a list", 1, None],
        "a string",
        12,
        None,
    ],
)
def test_payloads_the_product_writes(payload: Any) -> None:
    event = {
        "instance_id": 100002,
        "seq": 7,
        "kind": "completed",
        "actor_id": 28,
        "at": "2026-12-02T03:13:13.487229+00:00",
    }
    assert event_hash(**event, payload=payload, prev=GENESIS) == by_the_book(**event, payload=payload, prev=GENESIS)


def test_other_types_take_the_definition_itself() -> None:
    # What an evidence package's history.json could hold in place of numbers and strings (a forged one, say).
    odd = [
        {"instance_id": True, "seq": 1, "kind": "x", "actor_id": None, "at": "t", "payload": {}, "prev": GENESIS},
        {"instance_id": 1, "seq": 1.0, "kind": "x", "actor_id": None, "at": "t", "payload": {}, "prev": GENESIS},
        {"instance_id": 1, "seq": 1, "kind": None, "actor_id": "5", "at": None, "payload": {}, "prev": GENESIS},
        {"instance_id": 1, "seq": 1, "kind": "x", "actor_id": False, "at": "t", "payload": {}, "prev": None},
    ]
    for event in odd:
        assert event_hash(**event) == by_the_book(**event)


def test_a_text_json_cannot_encode_fails_alike() -> None:
    event = {"instance_id": 1, "seq": 1, "kind": "x", "actor_id": None, "at": "t", "prev": GENESIS}
    for payload in ({"lone": "\ud800"}, {"set": {1}}):
        with pytest.raises((UnicodeEncodeError, TypeError)) as quick:
            event_hash(**event, payload=payload)
        with pytest.raises((UnicodeEncodeError, TypeError)) as book:
            by_the_book(**event, payload=payload)
        assert quick.type is book.type
