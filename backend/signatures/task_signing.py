"""A signature step is its signer's task: the signer opens it, sees the document, types the passphrase, signs.

`task_sign` opens the signer's key with the passphrase typed in this request, signs the task's documents (the
numbered documents of the kinds its `documents` property names) and completes the task — one transaction, so
a task is never completed without its signature, and a signature never stays without the completed task.
The workflow refuses to complete a `signature` task any other way (backend/workflow/services.py).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.core.exceptions import Conflict, Forbidden, ValidationFailed
from backend.documents.models import GeneratedDocument
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask, Purpose
from backend.workflow.selectors import acting_capacity, purpose_of, visible_task

from .keyring import SigningKey, signing_key_open
from .models import PublishedDocument, Signature
from .services import document_publish, document_sign, public_name

# Completing a signature task without a signature is only the way out of it (e.g. withdrawing the request).
DECLINE_DECISIONS = frozenset({"withdraw"})


def is_signature_task(task: HumanTask) -> bool:
    return purpose_of(task.instance.definition, task.spec_id) == Purpose.SIGNATURE


def declines(data: Any) -> bool:
    return isinstance(data, dict) and data.get("decision") in DECLINE_DECISIONS


def documents_to_sign(task: HumanTask) -> list[GeneratedDocument]:
    """The numbered documents of the task's case of the kinds the task names (drafts are never signed)."""
    routing = task.instance.definition.routing or {}
    wanted = routing.get("tasks", {}).get(task.spec_id, {}).get("properties", {}).get("documents", "")
    kinds = [kind.strip() for kind in str(wanted).split(",") if kind.strip()]
    documents = GeneratedDocument.objects.filter(instance_id=task.instance_id).exclude(number="")
    if kinds:
        documents = documents.filter(kind__in=kinds)
    return list(documents.order_by("created_at", "pk"))


def signing_check(task: HumanTask, user: User) -> list[GeneratedDocument]:
    """What the user would sign on this task; refuses when it is not theirs or nothing is ready."""
    if not is_signature_task(task):
        raise ValidationFailed(_("This task is not a signature step."), code="not_signature_task")
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    allowed, _acting_for = acting_capacity(task, user)
    if not allowed:
        raise Forbidden(_("This task is not yours. Claim it or ask the person it is assigned to."))
    documents = documents_to_sign(task)
    if not documents:
        raise Conflict(_("There is no document to sign in this case yet."))
    not_ready = [d for d in documents if d.status != GeneratedDocument.Status.READY]
    if not_ready:
        raise Conflict(_("The document is still being generated; try again in a minute."))
    return documents


def _sign_documents(task: HumanTask, user: User, key: SigningKey, documents: list[GeneratedDocument]) -> None:
    for document in documents:
        if Signature.objects.filter(document=document, signer=user, kind=Signature.Kind.PADES).exists():
            continue  # signed already in this step (a retried request)
        published = PublishedDocument.objects.filter(document=document).first() or document_publish(
            document=document,
            holder=None,
            holder_public_name=public_name(
                last_name=user.last_name, first_name=user.first_name, patronymic=user.patronymic
            ),
        )
        document_sign(
            published=published,
            signer=user,
            key=key,
            language=document.language,
            position=user.position,
            reason=document.title,
            seal=key.certificate.is_seal,
        )


def task_sign_with_key(*, task_id: int, user: User, key: SigningKey, data: Any) -> HumanTask:
    """Sign the task's documents with a key already opened for this user, and complete the task."""
    with transaction.atomic():
        task = visible_task(task_id, user)
        documents = signing_check(task, user)
        _sign_documents(task, user, key, documents)
        return workflow.task_complete(task_id=task_id, user=user, data=data, signature_made=True)


def is_seal_task(task: HumanTask) -> bool:
    """A step signed with the university's e-seal (its `seal` property), by the seal's custodian."""
    routing = task.instance.definition.routing or {}
    return str(routing.get("tasks", {}).get(task.spec_id, {}).get("properties", {}).get("seal", "")) == "true"


def task_sign(*, task_id: int, user: User, passphrase: str, data: Any) -> HumanTask:
    """The signer signs their task with the passphrase typed now (the key is opened for this request only)."""
    task = visible_task(task_id, user)
    if declines(data):
        return workflow.task_complete(task_id=task_id, user=user, data=data)
    signing_check(task, user)  # before the passphrase: a refusal here costs no attempt
    key = signing_key_open(user=user, passphrase=passphrase, seal=is_seal_task(task))
    return task_sign_with_key(task_id=task_id, user=user, key=key, data=data)
