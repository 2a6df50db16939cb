"""Writes of the cases app: the access log (who looked at or exported which case, and when)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.workflow.models import ProcessInstance

from .models import CaseAccess


@transaction.atomic
def case_access_record(
    *, user: User, action: str, instance: ProcessInstance | None = None, detail: dict[str, Any] | None = None
) -> CaseAccess:
    """Record one look at a case or one export, in the request that shows or sends it."""
    return CaseAccess.objects.create(user=user, action=action, instance=instance, detail=detail or {})
