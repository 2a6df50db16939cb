"""What the diagram's scripts call (bpmn/login_request.bpmn): each helper is bound to the running case."""

from __future__ import annotations

from typing import Any

from backend.accounts.models import User
from backend.workflow.models import Purpose
from backend.workflow.scripting import InstanceContext, register_helper
from backend.workflow.selectors import completed_with_purpose

from . import memo, selectors
from .activation_period import expires_at, remind_at, request_close, request_finish, request_remind, request_resend
from .deactivation import account_deactivate
from .decisions import request_match, request_refuse
from .group_accounts import batch_start
from .models import AccessRequest
from .provisioning import request_provision
from .record import Record


def _request_of(context: InstanceContext) -> AccessRequest:
    return AccessRequest.objects.select_related("instance", "requested_by", "department", "school", "group").get(
        instance_id=context.instance_id
    )


def _actor(context: InstanceContext) -> User | None:
    return User.objects.filter(pk=context.actor_id).first() if context.actor_id else None


def _record(context: InstanceContext) -> Record:
    def record(kind: str, payload: dict[str, Any]) -> None:
        if context.record is not None:
            context.record(kind, payload)

    return record


def _submitted(request: AccessRequest, purpose: Purpose) -> dict[str, Any]:
    """What the last completion of the step with this purpose submitted (the form's decision and comment)."""
    task = completed_with_purpose(request.instance, purpose).first()
    return dict(task.submitted_data) if task else {}


@register_helper("memo_generate")
def _memo_generate(context: InstanceContext) -> Any:
    def memo_generate() -> int:
        """Number the memo (form No. 2) and have it generated; returns the document's id."""
        return memo.memo_generate(request=_request_of(context), actor=_actor(context)).pk

    return memo_generate


@register_helper("memo_signed")
def _memo_signed(context: InstanceContext) -> Any:
    def memo_signed() -> bool:
        """Record that the head signed the memo in the signature step (the signature was made in that request)."""
        return memo.memo_record_signed(request=_request_of(context))

    return memo_signed


@register_helper("access_refuse")
def _access_refuse(context: InstanceContext) -> Any:
    def access_refuse(reason: str) -> str:
        return request_refuse(request=_request_of(context), reason=str(reason or ""), record=_record(context))

    return access_refuse


@register_helper("access_match")
def _access_match(context: InstanceContext) -> Any:
    def access_match() -> int:
        return request_match(request=_request_of(context), record=_record(context))

    return access_match


@register_helper("access_provision")
def _access_provision(context: InstanceContext) -> Any:
    def access_provision() -> int:
        """Create or reuse the accounts; returns how many people must still set a password."""
        request = _request_of(context)
        return request_provision(
            request=request, duplicates=_submitted(request, Purpose.EXISTING_ACCOUNTS), record=_record(context)
        )

    return access_provision


@register_helper("access_batch_start")
def _access_batch_start(context: InstanceContext) -> Any:
    def access_batch_start() -> int:
        return batch_start(request=_request_of(context), record=_record(context)).total

    return access_batch_start


@register_helper("access_awaiting")
def _access_awaiting(context: InstanceContext) -> Any:
    def access_awaiting() -> int:
        return selectors.awaiting(request=_request_of(context))

    return access_awaiting


@register_helper("access_remind_at")
def _access_remind_at(context: InstanceContext) -> Any:
    def access_remind_at() -> str:
        """When the reminder of this round of links is due (the timer reads it when the wait begins)."""
        return remind_at(request=_request_of(context)).isoformat()

    return access_remind_at


@register_helper("access_expires_at")
def _access_expires_at(context: InstanceContext) -> Any:
    def access_expires_at() -> str:
        """When this round of links expires and the case goes back to IT (or the dean's office)."""
        return expires_at(request=_request_of(context)).isoformat()

    return access_expires_at


@register_helper("access_remind")
def _access_remind(context: InstanceContext) -> Any:
    def access_remind() -> int:
        return request_remind(request=_request_of(context), record=_record(context))

    return access_remind


@register_helper("access_resend")
def _access_resend(context: InstanceContext) -> Any:
    def access_resend() -> int:
        return request_resend(request=_request_of(context), record=_record(context))

    return access_resend


@register_helper("access_close")
def _access_close(context: InstanceContext) -> Any:
    def access_close() -> str:
        return request_close(request=_request_of(context), record=_record(context))

    return access_close


@register_helper("access_finish")
def _access_finish(context: InstanceContext) -> Any:
    def access_finish() -> str:
        return request_finish(request=_request_of(context))

    return access_finish


@register_helper("access_deactivate")
def _access_deactivate(context: InstanceContext) -> Any:
    def access_deactivate() -> str:
        return account_deactivate(request=_request_of(context), actor=_actor(context), record=_record(context))

    return access_deactivate
