"""Cases of the engine's test process walked to chosen points: a loop back, a parallel split, a timer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.workflow import services
from backend.workflow.models import ProcessDefinition, ProcessInstance
from tests.conftest import user
from tests.inbox.conftest import open_task, start_case


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _forget_kept_processes() -> Iterator[None]:
    yield
    services._CACHE.items.clear()


def returned_once(username: str = "teacher1") -> ProcessInstance:
    """A case the head returned once (with a comment), written again and approved: both checks now wait."""
    instance = start_case(username)
    head = user("department_head1")
    services.task_complete(
        task_id=open_task(instance, "review").pk, user=head, data={"decision": "return", "comment": "Add the dates"}
    )
    services.task_complete(
        task_id=open_task(instance, "write").pk, user=user(username), data={"title": "J2", "days": 2}
    )
    services.task_complete(task_id=open_task(instance, "review").pk, user=head, data={"decision": "approve"})
    instance.refresh_from_db()
    return instance


@pytest.fixture
def looped_case(engine_test_process: ProcessDefinition) -> ProcessInstance:
    return returned_once()
