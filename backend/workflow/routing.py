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


# A department's lineage: department, school, university (and a level to spare).
_PARENTS = ["parent__parent__parent__parent"]


class RoutingMemo:
    """What routing read during one operation (units by code, role holders of a unit), read once."""

    def __init__(self) -> None:
        self.units: dict[Any, OrgUnit] = {}
        self.holders: dict[tuple[str, int, frozenset[int]], list[Holder]] = {}
        # Who completed the case's tasks, in which role, when the operation read it with the case's lock.
        self.acted: list[tuple[int, str]] | None = None

    def unit(self, code: Any) -> OrgUnit:
        if code not in self.units:
            # With its parents, so the lineage role_holders walks up is already read.
            units = OrgUnit.objects.select_related(*_PARENTS)
            unit = None
            if isinstance(code, int):
                unit = units.filter(pk=code).first()
            elif isinstance(code, str) and code:
                unit = units.filter(code=code).first()
            self.units[code] = unit or units.get(parent__isnull=True, kind=OrgUnit.Kind.UNIVERSITY)
        return self.units[code]

    def role_holders(self, role: str, unit: OrgUnit, exclude: set[int]) -> list[Holder]:
        key = (role, unit.pk, frozenset(exclude))
        if key not in self.holders:
            self.holders[key] = role_holders(role=role, org_unit=unit, exclude=exclude)
        return self.holders[key]


def _scope_code(expression: str, data: dict[str, Any]) -> Any:
    return expression[1:] if expression.startswith("=") else data.get(expression)


def excluded_for(instance: ProcessInstance, role: str, memo: RoutingMemo | None = None) -> set[int]:
    """People who acted in this instance in another role (they started it, or completed a task)."""
    start_lane = instance.definition.routing.get("start_lane", "")
    acted: list[tuple[int | None, str]] = [(instance.started_by_id, start_lane)]
    if memo is not None and memo.acted is not None:
        acted += memo.acted
    else:
        acted += list(
            HumanTask.objects.filter(instance=instance, status=HumanTask.Status.COMPLETED)
            .values_list("completed_by_id", "role")
            .distinct()
        )
    return {user_id for user_id, acted_role in acted if user_id is not None and acted_role != role}


def _person(instance: ProcessInstance, user_id: Any) -> User | None:
    """The active user with this id; the case's requester, already in memory, is not read again."""
    if not isinstance(user_id, int):
        return None
    if user_id == instance.started_by_id and instance.started_by is not None:
        return instance.started_by if instance.started_by.is_active else None
    return User.objects.filter(pk=user_id, is_active=True).first()


def route(
    *, instance: ProcessInstance, spec_id: str, lane: str, data: dict[str, Any], memo: RoutingMemo | None = None
) -> Route:
    memo = memo or RoutingMemo()
    properties = task_properties(instance.definition, spec_id, lane)
    role = properties.get("role") or lane
    assignee_var = properties.get("assignee")
    scope = _scope_code(properties.get("scope", "=university"), data)
    if assignee_var:
        assignee = _person(instance, data.get(assignee_var))
        if assignee is not None or role not in SUPERIOR_ROLE:
            return Route(role, None, assignee, [], properties)
        # The person has left (account switched off): the level above takes the step, in the lane's scope.
        role = SUPERIOR_ROLE[role]
        unit = memo.unit(scope)
        return Route(role, unit, None, memo.role_holders(role, unit, set()), properties)
    exclude = excluded_for(instance, role, memo) if properties.get("sod", "true") != "false" else set()
    unit = memo.unit(scope)
    return Route(role, unit, None, memo.role_holders(role, unit, exclude), properties)
