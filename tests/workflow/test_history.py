"""The history is hash-chained; verify_history names every instance whose chain was tampered with."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend.workflow import services
from backend.workflow.models import HistoryEvent
from tests.conftest import user

pytestmark = pytest.mark.django_db


def started() -> int:
    instance = services.instance_start(
        process_key="qujat_engine_test",
        user=user("teacher1"),
        data={"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0},
    )
    return instance.pk


def test_an_intact_history_verifies(engine_test_process: object, capsys: pytest.CaptureFixture[str]) -> None:
    started()
    call_command("verify_history")
    assert "intact" in capsys.readouterr().out


def test_an_edited_event_is_found(engine_test_process: object, capsys: pytest.CaptureFixture[str]) -> None:
    untouched, edited = started(), started()
    event = HistoryEvent.objects.filter(instance_id=edited, kind="started").get()
    # Someone with database access rewrites who started the case.
    HistoryEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "data": {"initiator_id": 999}})

    with pytest.raises(CommandError, match="1 instance"):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert f"instance {edited}: event 1 content does not match its hash" in err
    assert f"instance {untouched}:" not in err


def test_a_deleted_event_is_found(engine_test_process: object, capsys: pytest.CaptureFixture[str]) -> None:
    instance_id = started()
    HistoryEvent.objects.filter(instance_id=instance_id, seq=1).delete()
    with pytest.raises(CommandError):
        call_command("verify_history")
    assert "event 1 is missing" in capsys.readouterr().err


def test_each_event_links_to_the_previous_one(engine_test_process: object) -> None:
    events = list(HistoryEvent.objects.filter(instance_id=started()).order_by("seq"))
    assert events[0].prev_hash == "0" * 64
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash


def test_a_deleted_last_event_is_found(engine_test_process: object, capsys: pytest.CaptureFixture[str]) -> None:
    instance_id = started()
    last = HistoryEvent.objects.filter(instance_id=instance_id).order_by("-seq").first()
    assert last is not None
    HistoryEvent.objects.filter(pk=last.pk).delete()
    with pytest.raises(CommandError):
        call_command("verify_history")
    assert f"instance {instance_id}: event {last.seq} is missing at the end" in capsys.readouterr().err


def test_a_case_whose_every_event_was_deleted_is_found(
    engine_test_process: object, capsys: pytest.CaptureFixture[str]
) -> None:
    instance_id = started()
    count = HistoryEvent.objects.filter(instance_id=instance_id).count()
    HistoryEvent.objects.filter(instance_id=instance_id).delete()
    with pytest.raises(CommandError):
        call_command("verify_history")
    assert (
        f"instance {instance_id}: event 1 and the {count - 1} event(s) after it are missing" in capsys.readouterr().err
    )


def test_the_case_carries_its_chains_head(engine_test_process: object) -> None:
    from backend.workflow.models import ProcessInstance

    instance = ProcessInstance.objects.get(pk=started())
    last = HistoryEvent.objects.filter(instance=instance).order_by("-seq").first()
    assert last is not None
    assert (instance.history_count, instance.history_head) == (last.seq, last.hash)


def test_deferred_events_are_written_with_the_save_and_hashed_again_after_another_writer(
    engine_test_process: object,
) -> None:
    from django.db import transaction

    from backend.workflow.history import HistoryChain, history_record, instance_broken_chain
    from backend.workflow.models import ProcessInstance

    instance = ProcessInstance.objects.get(pk=started())
    before = instance.history_count
    with transaction.atomic():
        locked = ProcessInstance.objects.select_for_update().get(pk=instance.pk)
        chain = HistoryChain(locked, locked=True)
        # Given two events held back for the save
        chain.append(kind="note", payload={"text": "first"}, defer=True)
        chain.append(kind="note", payload={"text": "second"}, defer=True)
        assert HistoryEvent.objects.filter(instance=instance).count() == before
        # and, meanwhile, an event appended through a chain of its own (as a service called by a hook does)
        history_record(instance=ProcessInstance.objects.get(pk=instance.pk), kind="note", payload={"text": "other"})

        # When the chain saves the instance with them
        assert chain.save({"incident": "checked"}, version=locked.version)

    # Then they follow the other event, the chain is intact and the instance's head is the last of them
    instance.refresh_from_db()
    texts = list(
        HistoryEvent.objects.filter(instance=instance, seq__gt=before)
        .order_by("seq")
        .values_list("payload__text", flat=True)
    )
    assert texts == ["other", "first", "second"]
    assert instance.incident == "checked"
    assert instance.history_count == before + 3
    assert instance_broken_chain(instance) is None


def test_a_save_on_a_moved_version_writes_nothing(engine_test_process: object) -> None:
    from django.db import transaction

    from backend.workflow.history import HistoryChain
    from backend.workflow.models import ProcessInstance

    instance = ProcessInstance.objects.get(pk=started())
    with transaction.atomic():
        chain = HistoryChain(ProcessInstance.objects.select_for_update().get(pk=instance.pk), locked=True)
        chain.append(kind="note", payload={"text": "held"}, defer=True)

        assert not chain.save({"incident": "stale"}, version=instance.version - 1)

    instance.refresh_from_db()
    assert instance.incident == ""
    assert not HistoryEvent.objects.filter(instance=instance, kind="note").exists()
