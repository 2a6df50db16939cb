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
from backend.workflow import forms
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask, Purpose
from backend.workflow.selectors import acting_capacity, purpose_of, visible_task

from .keyring import SigningKey, signing_key_open
from .models import PublishedDocument, Signature
from .services import document_publish, document_sign, document_sign_finish, document_sign_prepare, public_name

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


def _publication(document: GeneratedDocument, user: User) -> PublishedDocument:
    return PublishedDocument.objects.filter(document=document).first() or document_publish(
        document=document,
        holder=None,
        holder_public_name=public_name(
            last_name=user.last_name, first_name=user.first_name, patronymic=user.patronymic
        ),
    )


def _sign_documents(task: HumanTask, user: User, key: SigningKey, documents: list[GeneratedDocument]) -> None:
    for document in documents:
        if _signed_by(document, user):
            continue  # signed already in this step (a retried request)
        document_sign(
            published=_publication(document, user),
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


def signing_form_data(task: HumanTask) -> dict[str, Any]:
    """What signing submits on a task's form without the form (a batch, NCALayer): confirmations and "sign"."""
    schema = task.instance.definition.forms.get(task.spec_id, forms.EMPTY_FORM)
    data: dict[str, Any] = {}
    for name, spec in (schema.get("properties") or {}).items():
        if spec.get("const") is True:
            data[name] = True
        elif "sign" in (spec.get("enum") or []):
            data[name] = "sign"
    return data


def signature_task_of(document: GeneratedDocument, user: User) -> HumanTask | None:
    """The open signature task of the document's case that holds this document and that the user acts on."""
    if document.instance_id is None:
        return None
    tasks = HumanTask.objects.filter(instance_id=document.instance_id, status=HumanTask.Status.OPEN).select_related(
        "instance__definition"
    )
    for task in tasks.order_by("pk"):
        if (
            is_signature_task(task)
            and acting_capacity(task, user)[0]
            and any(d.pk == document.pk for d in documents_to_sign(task))
        ):
            return task
    return None


def _holder_task(document: GeneratedDocument, user: User) -> HumanTask:
    task = signature_task_of(document, user)
    if task is None:
        raise Forbidden(_("This document is not waiting for your signature."))
    _check_holder(task, user)
    return task


def _check_holder(task: HumanTask, user: User) -> None:
    if is_seal_task(task):
        message = _("The university's e-seal is applied with its custodian's signing passphrase, not with NCALayer.")
        raise ValidationFailed(message, code="seal_task", fields={"cms": [message]})
    signing_check(task, user)


def task_document_prepare(*, document: GeneratedDocument, user: User) -> tuple[str, bytes]:
    """For NCALayer: the task holder's stamp placed in the document; (token, the bytes NCALayer signs)."""
    with transaction.atomic():
        _holder_task(document, user)
        return document_sign_prepare(
            published=_publication(document, user),
            signer=user,
            language=document.language,
            position=user.position,
            reason=document.title,
        )


def task_document_sign_cms(
    *, document: GeneratedDocument, user: User, token: str, cms: str
) -> tuple[Signature, HumanTask | None]:
    """NCALayer's CMS over the prepared document, into the PDF; the task completes once all its documents are
    signed — exactly as with the passphrase (its own history events, the process's next steps), and only once."""
    with transaction.atomic():
        task = signature_task_of(document, user)
        published = PublishedDocument.objects.filter(document=document).first()
        if published is None:
            raise Forbidden(_("This document is not waiting for your signature."))
        if task is None:
            # Posted again after the task completed: the same signature is answered, nothing is done twice.
            done = Signature.objects.filter(document=document, signer=user, kind=Signature.Kind.PADES, cms=cms.encode())
            if done.exists():
                return done.get(), None
            raise Forbidden(_("This document is not waiting for your signature."))
        _check_holder(task, user)
        signature = document_sign_finish(published=published, signer=user, token=token, cms=cms)
        if not all(_signed_by(each, user) for each in documents_to_sign(task)):
            return signature, None  # the task's other documents still wait for their signatures
        data = signing_form_data(task)
        return signature, workflow.task_complete(task_id=task.pk, user=user, data=data, signature_made=True)


def _signed_by(document: GeneratedDocument, user: User) -> bool:
    return Signature.objects.filter(document=document, signer=user, kind=Signature.Kind.PADES).exists()


def task_sign(*, task_id: int, user: User, passphrase: str, data: Any) -> HumanTask:
    """The signer signs their task with the passphrase typed now (the key is opened for this request only)."""
    task = visible_task(task_id, user)
    if declines(data):
        return workflow.task_complete(task_id=task_id, user=user, data=data)
    signing_check(task, user)  # before the passphrase: a refusal here costs no attempt
    key = signing_key_open(user=user, passphrase=passphrase, seal=is_seal_task(task))
    return task_sign_with_key(task_id=task_id, user=user, key=key, data=data)
