"""Who gets a user task: the lane names the role, process data names the org unit, the accounts selector
names the people — never a global role. Separation of duties is applied here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.accounts.models import OrgUnit, User
from backend.accounts.roles import SUPERIOR_ROLE
from backend.accounts.selectors import Holder, role_holders

from .models import HumanTask, ProcessDefinition, ProcessInstance


@dataclass(frozen=True)
class Route:
    role: str
    org_unit: OrgUnit | None
    assignee: User | None
    holders: list[Holder]
    properties: dict[str, str]


def task_properties(definition: ProcessDefinition, spec_id: str, lane: str) -> dict[str, str]:
    """Lane properties overridden by the task's own."""
    lane_props = definition.routing.get("lanes", {}).get(lane, {})
    task_props = definition.routing.get("tasks", {}).get(spec_id, {}).get("properties", {})
    return {**lane_props, **task_props}


def _scope_unit(expression: str, data: dict[str, Any]) -> OrgUnit:
    if expression.startswith("="):
        code: Any = expression[1:]
    else:
        code = data.get(expression)
    unit = None
    if isinstance(code, int):
        unit = OrgUnit.objects.filter(pk=code).first()
    elif isinstance(code, str) and code:
        unit = OrgUnit.objects.filter(code=code).first()
    return unit or OrgUnit.objects.get(parent__isnull=True, kind=OrgUnit.Kind.UNIVERSITY)


def excluded_for(instance: ProcessInstance, role: str) -> set[int]:
    """People who acted in this instance in another role (they started it, or completed a task)."""
    start_lane = instance.definition.routing.get("start_lane", "")
    acted: list[tuple[int | None, str]] = [(instance.started_by_id, start_lane)]
    acted += list(
        HumanTask.objects.filter(instance=instance, status=HumanTask.Status.COMPLETED).values_list(
            "completed_by_id", "role"
        )
    )
    return {user_id for user_id, acted_role in acted if user_id is not None and acted_role != role}


def route(*, instance: ProcessInstance, spec_id: str, lane: str, data: dict[str, Any]) -> Route:
    properties = task_properties(instance.definition, spec_id, lane)
    role = properties.get("role") or lane
    assignee_var = properties.get("assignee")
    unit = _scope_unit(properties.get("scope", "=university"), data)
    if assignee_var:
        user_id = data.get(assignee_var)
        assignee = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
        if assignee is not None or role not in SUPERIOR_ROLE:
            return Route(role, None, assignee, [], properties)
        # The person has left (account switched off): the level above takes the step, in the lane's scope.
        role = SUPERIOR_ROLE[role]
        return Route(role, unit, None, role_holders(role=role, org_unit=unit), properties)
    exclude = excluded_for(instance, role) if properties.get("sod", "true") != "false" else set()
    return Route(role, unit, None, role_holders(role=role, org_unit=unit, exclude=exclude), properties)
