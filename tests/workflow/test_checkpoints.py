"""Signed checkpoints of the chains' heads: re-hashing a tail after a checkpoint, and bad checkpoints, are named."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend.workflow.checkpoints import checkpoint_create
from backend.workflow.history import GENESIS, event_hash
from backend.workflow.models import HistoryEvent, ProcessInstance
from tests.workflow.test_history import started

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def store(settings: Any, tmp_path: Path) -> Path:
    settings.QUJAT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    return tmp_path / "checkpoints"


def rehash_from(instance_id: int, seq: int) -> None:
    """What someone with write access to the database would do to hide an edit: recompute every hash from
    `seq` on and move the case's anchor, so the chain and its anchor agree again."""
    events = list(HistoryEvent.objects.filter(instance_id=instance_id).order_by("seq"))
    prev = GENESIS if seq == 1 else events[seq - 2].hash
    for number, event in enumerate(events[seq - 1 :], start=seq):
        event.seq, event.prev_hash = number, prev
        event.hash = event_hash(
            instance_id=instance_id,
            seq=number,
            kind=event.kind,
            actor_id=event.actor_id,
            at=event.at,
            payload=event.payload,
            prev_hash=prev,
        )
        HistoryEvent.objects.filter(pk=event.pk).update(seq=number, prev_hash=prev, hash=event.hash)
        prev = event.hash
    ProcessInstance.objects.filter(pk=instance_id).update(history_count=len(events), history_head=prev)


def verify(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(CommandError):
        call_command("verify_history")
    return capsys.readouterr().err


def test_a_checkpoint_is_signed_appended_and_never_rewritten(
    engine_test_process: object, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.signatures.services import trust_roots
    from signing import keys
    from signing.cms import verify_detached

    case = started()
    call_command("checkpoint_history")
    [first] = sorted(store.glob("*.json"))
    body = json.loads(first.read_bytes())
    count, head = ProcessInstance.objects.values_list("history_count", "history_head").get(pk=case)
    assert [case, count, head] in body["chains"]
    assert body["previous"] == ""
    verdict = verify_detached(
        content=first.read_bytes(), cms=first.with_name(first.name + ".p7s").read_bytes(), trust_roots=trust_roots()
    )
    assert verdict.valid, verdict.problems
    assert "Qujat" in (verdict.signer.subject_common_name if verdict.signer else "")
    assert stat.S_IMODE(first.stat().st_mode) == 0o444  # read-only once written
    # Anyone can check it without the application, as the README says: OpenSSL and the university's root.
    root_pem = store / "root.pem"
    root_pem.write_bytes(b"".join(keys.certificate_to_pem(root) for root in trust_roots()))
    checked = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            f"{first}.p7s",
            "-content",
            str(first),
            "-CAfile",
            str(root_pem),
            "-purpose",
            "any",
            "-out",
            os.devnull,
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    before = first.read_bytes()
    second = checkpoint_create()
    assert first.read_bytes() == before
    assert json.loads(second.read_bytes())["previous"] != ""
    call_command("verify_history")
    assert "intact" in capsys.readouterr().out


def test_a_tail_rehashed_after_the_checkpoint_is_found(
    engine_test_process: object, capsys: pytest.CaptureFixture[str]
) -> None:
    untouched, edited = started(), started()
    checkpoint_create()
    last = HistoryEvent.objects.filter(instance_id=edited).order_by("-seq").first()
    assert last is not None
    HistoryEvent.objects.filter(pk=last.pk).update(payload={**last.payload, "forged": True})
    rehash_from(edited, last.seq)
    err = verify(capsys)
    assert f"instance {edited}: event {last.seq} the history up to this event was re-hashed after checkpoint" in err
    assert "[the tail was re-hashed after a checkpoint]" in err
    assert f"instance {untouched}:" not in err


def test_a_tail_deleted_with_its_anchor_moved_after_the_checkpoint_is_found(
    engine_test_process: object, capsys: pytest.CaptureFixture[str]
) -> None:
    case = started()
    checkpoint_create()
    count = HistoryEvent.objects.filter(instance_id=case).count()
    HistoryEvent.objects.filter(instance_id=case, seq=count).delete()
    rehash_from(case, 1)  # the anchor now agrees with what is left
    err = verify(capsys)
    assert f"instance {case}: event {count} events were deleted after checkpoint" in err
    assert "[events were deleted]" in err


def test_an_event_inserted_in_the_middle_is_named(
    engine_test_process: object, capsys: pytest.CaptureFixture[str]
) -> None:
    case = started()
    events = list(HistoryEvent.objects.filter(instance_id=case).order_by("seq"))
    assert len(events) >= 2
    # Make room after event 1 and put a forged event there that links to event 1 correctly.
    for event in reversed(events[1:]):
        HistoryEvent.objects.filter(pk=event.pk).update(seq=event.seq + 1)
    forged_at = events[0].at
    forged = event_hash(
        instance_id=case, seq=2, kind="note", actor_id=None, at=forged_at, payload={}, prev_hash=events[0].hash
    )
    HistoryEvent.objects.create(
        instance_id=case, seq=2, kind="note", at=forged_at, payload={}, prev_hash=events[0].hash, hash=forged
    )
    err = verify(capsys)
    assert f"instance {case}: event 3 does not link to the previous event [an event was inserted]" in err


def test_an_edited_event_and_a_deleted_event_are_named(
    engine_test_process: object, capsys: pytest.CaptureFixture[str]
) -> None:
    edited, deleted = started(), started()
    event = HistoryEvent.objects.get(instance_id=edited, seq=1)
    HistoryEvent.objects.filter(pk=event.pk).update(payload={"forged": True})
    HistoryEvent.objects.filter(instance_id=deleted, seq=1).delete()
    err = verify(capsys)
    assert f"instance {edited}: event 1 content does not match its hash [an event was edited]" in err
    assert f"instance {deleted}: event 2 event 1 is missing [events were deleted]" in err


def test_a_checkpoint_whose_signature_fails_is_named_and_the_one_before_it_is_used(
    engine_test_process: object, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = started()
    checkpoint_create()
    last = HistoryEvent.objects.filter(instance_id=case).order_by("-seq").first()
    assert last is not None
    HistoryEvent.objects.filter(pk=last.pk).update(payload={**last.payload, "forged": True})
    rehash_from(case, last.seq)
    # Someone rewrites the newest checkpoint to agree with the forged chain (the file store is not the
    # database, but say they got there too): its signature no longer holds.
    forged = checkpoint_create()
    os.chmod(forged, 0o644)
    body = json.loads(forged.read_bytes())
    body["created_at"] = "2020-01-01T00:00:00+00:00"
    forged.write_bytes(json.dumps(body).encode())
    err = verify(capsys)
    assert f"checkpoint {forged.name}: signature invalid" in err
    assert f"instance {case}: event {last.seq} the history up to this event was re-hashed after checkpoint" in err


@pytest.fixture
def university_tsa() -> Iterator[str]:
    """An RFC 3161 timestamp server on the loopback, certified by the university's own root."""
    from backend.signatures.models import Authority
    from backend.signatures.services import _credential_of, pki_ensure
    from tests.signing.signing_testbed import serve_tsa

    root, _issuing = pki_ensure()
    root = Authority.objects.get(pk=root.pk)
    with serve_tsa(_credential_of(root.certificate_pem, root.encrypted_key_pem)) as (url, asked):
        yield url
        assert asked, "the timestamp server was never asked"


def test_with_a_tsa_the_checkpoint_carries_an_rfc3161_timestamp(
    engine_test_process: object, settings: Any, university_tsa: str
) -> None:
    from backend.signatures.services import trust_roots
    from signing.cms import verify_detached

    settings.QUJAT_TSA_URL = university_tsa
    started()
    path = checkpoint_create()
    verdict = verify_detached(
        content=path.read_bytes(), cms=path.with_name(path.name + ".p7s").read_bytes(), trust_roots=trust_roots()
    )
    assert verdict.valid, verdict.problems
    assert verdict.signing_time_from_timestamp
