"""What a business process adds to the generic engine: how it starts and who may start it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StartSpec:
    """The checked start of an instance: its data, business key and subject in kk/ru/en."""

    data: dict[str, Any]
    business_key: str = ""
    subject: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessHooks:
    key: str
    # Called as prepare_start(user=…, **values) with the values of the start form (bpmn/forms/<key>/start.json),
    # already validated and typed; checks them against the records (raises ApplicationError), builds the start.
    prepare_start: Callable[..., StartSpec]
    # Called inside the start transaction once the instance exists (e.g. to create its domain record).
    after_start: Callable[[Any, StartSpec], None] | None = None
    # Checks a task's submitted data against the records before it completes (raise ValidationFailed).
    check_task: Callable[[Any, str, dict[str, Any]], None] | None = None


_HOOKS: dict[str, ProcessHooks] = {}


def register_process(hooks: ProcessHooks) -> None:
    _HOOKS[hooks.key] = hooks


def hooks_for(key: str) -> ProcessHooks | None:
    return _HOOKS.get(key)
