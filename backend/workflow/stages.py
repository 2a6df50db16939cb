"""A case's stage, worked out in one place from the engine's position and the case's status.

The diagram decides: a step the case waits at (a user task, a receive task, a catch event) and an end event
may carry a `stage` property; a process may also set an `outcome` variable that is a stage. Deployment keeps
each element's stage in the definition's routing (`stages`).
"""

from __future__ import annotations

from typing import Any

from .models import ProcessDefinition, ProcessInstance

Stage = ProcessInstance.Stage
Status = ProcessInstance.Status
# Stages a case can only be in while it waits at a step, and those it can only end in.
RUNNING_STAGES = frozenset(
    {
        Stage.APPROVAL,
        Stage.REVIEW,
        Stage.QUESTION,
        Stage.SIGNING,
        Stage.OPEN,
        Stage.CLOSING,
        Stage.PROVISIONING,
        Stage.ACTIVATION,
        Stage.EXPIRED,
        Stage.ISSUED,
    }
)
END_STAGES = frozenset(
    {
        Stage.ISSUED,
        Stage.HANDED_OVER,
        Stage.COMPLETED,
        Stage.DEACTIVATED,
        Stage.CLOSED,
        Stage.REFUSED,
        Stage.WITHDRAWN,
    }
)
_BY_STATUS: dict[str, ProcessInstance.Stage] = {
    Status.CANCELLED: Stage.CANCELLED,
    Status.SUSPENDED: Stage.SUSPENDED,
    Status.ERROR: Stage.ERROR,
}


def declared_stages(definition: ProcessDefinition, *, latest_routing: dict[str, Any] | None = None) -> dict[str, str]:
    """Element id → stage, from the case's own version; a version deployed before its diagram declared stages
    borrows them from the latest version of the process (task ids rarely change between versions), whose
    routing the caller may have read already."""
    stages: dict[str, str] | None = (definition.routing or {}).get("stages")
    if stages is None:
        stages = (definition.latest_routing() if latest_routing is None else latest_routing).get("stages")
    return stages or {}


def case_stage(
    *, status: str, waiting: list[str], end: str | None, outcome: Any, stages: dict[str, str]
) -> ProcessInstance.Stage:
    """The stage of a case whose engine waits at `waiting` (latest first) or reached `end`."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == Status.COMPLETED:
        if isinstance(outcome, str) and outcome in END_STAGES:
            return Stage(outcome)
        return Stage(stages.get(end or "", Stage.COMPLETED))
    for element in waiting:
        if element in stages:
            return Stage(stages[element])
    return Stage.IN_PROGRESS
