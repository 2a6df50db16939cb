"""Who may open the monitor, and which cases they see: the Registrar office, the vice-rector and auditors
see the whole university; a dean sees their own school, a head of department their own department."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import descendants, units_where, user_has_role
from backend.core.exceptions import Forbidden

WHOLE_UNIVERSITY = (Role.REGISTRAR_HEAD, Role.REGISTRAR_STAFF, Role.REGISTRAR_INSPECTOR, Role.VICE_RECTOR)
UNIT_ROLES = (Role.SCHOOL_DEAN, Role.DEAN_CURATION, Role.DEPARTMENT_HEAD)


@dataclass(frozen=True)
class MonitorScope:
    """`unit_ids` is None for the whole university; `may_act` is False for read-only viewers (auditors)."""

    unit_ids: frozenset[int] | None
    may_act: bool
    may_operate: bool  # retry, suspend, resume, cancel: the head of the Registrar office

    def covers(self, unit_id: int | None) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids


def monitor_scope(user: User) -> MonitorScope:
    """The user's view of the monitor; Forbidden for anyone without one."""
    if not user.is_authenticated:
        raise Forbidden(_("The process monitor is for the Registrar office and the heads of units."))
    operator = user.is_superuser or user_has_role(user, Role.REGISTRAR_HEAD)
    if operator or user_has_role(user, *WHOLE_UNIVERSITY):
        return MonitorScope(unit_ids=None, may_act=True, may_operate=operator)
    units = units_where(user, *UNIT_ROLES)
    if units:
        return MonitorScope(unit_ids=frozenset(descendants(units)), may_act=True, may_operate=False)
    if user_has_role(user, Role.AUDITOR):
        return MonitorScope(unit_ids=None, may_act=False, may_operate=False)
    raise Forbidden(_("The process monitor is for the Registrar office and the heads of units."))
