"""Who holds which role where: the one place that answers routing questions."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import OrgUnit, RoleAssignment, Substitution, User
from .roles import SUPERIOR_ROLE, Role


@dataclass(frozen=True)
class Holder:
    """A person competent for a role at a unit; `acting_for` is set when they substitute someone."""

    user: User
    role: str
    org_unit: OrgUnit
    acting_for: User | None = None
    escalated_from: str | None = None


def _today(on: date | None) -> date:
    return on or timezone.localdate()


def active_assignments(*, on: date | None = None) -> QuerySet[RoleAssignment]:
    day = _today(on)
    return RoleAssignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day, user__is_active=True
    )


def active_substitutions(*, on: date | None = None) -> QuerySet[Substitution]:
    day = _today(on)
    return Substitution.objects.filter(starts_on__lte=day, ends_on__gte=day, substitute__is_active=True)


def _substitutes(principals: Iterable[User], role: str, day: date) -> dict[int, list[User]]:
    by_absent: dict[int, list[User]] = {}
    subs = (
        active_substitutions(on=day)
        .filter(absent__in=list(principals))
        .filter(Q(role="") | Q(role=role))
        .select_related("substitute")
    )
    for sub in subs:
        by_absent.setdefault(sub.absent_id, []).append(sub.substitute)
    return by_absent


def role_holders(
    *, role: str, org_unit: OrgUnit, on: date | None = None, exclude: Collection[int] = ()
) -> list[Holder]:
    """Who currently holds `role` for `org_unit`, honouring scope, validity, substitutions and deputies.

    The nearest unit up the tree that has the role answers. People in `exclude` (separation of duties)
    are skipped; when nobody competent is left at a level, its deputies act, then the same role higher
    up, then the superior role ("the level above").
    """
    day = _today(on)
    lineage = org_unit.lineage()
    assignments = list(
        active_assignments(on=day).filter(role=role, org_unit__in=lineage).select_related("user", "org_unit")
    )
    by_unit: dict[int, list[RoleAssignment]] = {}
    for assignment in assignments:
        by_unit.setdefault(assignment.org_unit_id, []).append(assignment)
    for unit in lineage:
        at_level = by_unit.get(unit.pk, [])
        if not at_level:
            continue
        principals = [a.user for a in at_level if not a.is_deputy]
        substitutes = _substitutes(principals, role, day)
        holders: list[Holder] = []
        seen: set[int] = set()
        for user in principals:
            candidates = [(user, None)] + [(sub, user) for sub in substitutes.get(user.pk, [])]
            for candidate, acting_for in candidates:
                if candidate.pk in exclude or candidate.pk in seen:
                    continue
                seen.add(candidate.pk)
                holders.append(Holder(user=candidate, role=role, org_unit=unit, acting_for=acting_for))
        if not holders:
            holders = [
                Holder(user=a.user, role=role, org_unit=unit)
                for a in at_level
                if a.is_deputy and a.user_id not in exclude
            ]
        if holders:
            return holders
    superior = SUPERIOR_ROLE.get(role)
    if superior and exclude:
        return [
            Holder(user=h.user, role=h.role, org_unit=h.org_unit, acting_for=h.acting_for, escalated_from=role)
            for h in role_holders(role=superior, org_unit=org_unit, on=day, exclude=exclude)
        ]
    return []


def user_roles(user: User, *, on: date | None = None) -> list[RoleAssignment]:
    """The user's own active assignments (not those held as a substitute)."""
    return list(active_assignments(on=on).filter(user=user).select_related("org_unit"))


def active_roles(user: User, *, on: date | None = None) -> set[str]:
    """The roles of the user's own active assignments. Every write request asks it (backend/cases/read_only.py):
    an API token's cache entry keeps the day's answer with its user (accounts/tokens.py)."""
    day = _today(on)
    kept = getattr(user, "active_roles_kept", None)
    if kept is not None and kept[0] == day and user.is_active:
        return set(kept[1])
    return set(active_assignments(on=day).filter(user=user).values_list("role", flat=True).distinct())


def user_has_role(user: User, *roles: str, on: date | None = None) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser and Role.ADMINISTRATOR in roles:
        return True
    return active_assignments(on=on).filter(user=user, role__in=roles).exists()


def units_where(user: User, *roles: str, on: date | None = None) -> list[OrgUnit]:
    """The org units the user holds any of `roles` for, directly or as an active substitute."""
    day = _today(on)
    absent_ids = list(active_substitutions(on=day).filter(substitute=user).values_list("absent_id", flat=True))
    qs = active_assignments(on=day).filter(Q(user=user) | Q(user_id__in=absent_ids), role__in=roles)
    return [a.org_unit for a in qs.select_related("org_unit")]


def descendants(units: Iterable[OrgUnit]) -> set[int]:
    """Ids of the given units and every unit below them."""
    ids = {u.pk for u in units}
    frontier = set(ids)
    while frontier:
        frontier = set(OrgUnit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def substituted_users(user: User, *, on: date | None = None) -> list[User]:
    """People whose roles `user` currently holds as a substitute."""
    return [s.absent for s in active_substitutions(on=on).filter(substitute=user).select_related("absent")]
