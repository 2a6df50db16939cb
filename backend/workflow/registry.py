"""What a business process adds to the generic engine: how it starts and who may start it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.accounts.models import User


@dataclass(frozen=True)
class StartSpec:
    """The checked start of an instance: its data, business key and subject in kk/ru/en."""

    data: dict[str, Any]
    business_key: str = ""
    subject: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessHooks:
    key: str
    # Validate the requester's input against the records (raise ApplicationError) and build the start.
    prepare_start: Callable[[User, dict[str, Any]], StartSpec]
    # Called inside the start transaction once the instance exists (e.g. to create its domain record).
    after_start: Callable[[Any, StartSpec], None] | None = None
    # Checks a task's submitted data against the records before it completes (raise ValidationFailed).
    check_task: Callable[[Any, str, dict[str, Any]], None] | None = None


_HOOKS: dict[str, ProcessHooks] = {}


def register_process(hooks: ProcessHooks) -> None:
    _HOOKS[hooks.key] = hooks


def hooks_for(key: str) -> ProcessHooks | None:
    return _HOOKS.get(key)
