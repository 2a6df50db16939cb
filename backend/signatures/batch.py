"""Batch signing: a signer signs many waiting signature tasks with one passphrase entry, as a background job.

How the unlocked key reaches the worker without ever being stored in plaintext:

1. In the request, the passphrase opens the signer's key (keyring.signing_key_open: counted, lockable).
2. A one-time random 256-bit session key is drawn; the private key is re-wrapped under it (AES-GCM, bound to the
   certificate and holder). The wrapped key goes into the job's parameters (database); the session key goes
   only into the cache (Redis) under a random name, with a short lifetime (SESSION_TTL).
3. Each item (one task) fetches the session key, opens the private key in memory, signs that task's documents
   and completes the task in one transaction: its own signature and history event; a failure is recorded
   against that task's name and does not stop or undo the others (backend/core/jobs.py).
4. When the job finishes, the session key is deleted from the cache and the wrapped key from the job.

Neither the database nor the cache alone holds a usable key; after the job (or SESSION_TTL) neither does. An
item the job could not reach before the session expired fails with a clear reason: select and sign again.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, ValidationFailed
from backend.core.jobs import job_start, register_job_kind
from backend.core.models import Job, JobItem, in_each_language
from backend.workflow.models import HumanTask
from backend.workflow.selectors import visible_task
from signing import vault

from .keyring import SigningKey, signing_key_open
from .models import SignerCertificate
from .task_signing import is_seal_task, signing_check, signing_form_data, task_sign_with_key

KIND = "batch_sign"
MAX_BATCH = 500
SESSION_TTL = timedelta(minutes=20)
_CACHE_PREFIX = "qujat:signing-session:"


def _label(certificate: SignerCertificate) -> str:
    return f"{certificate.fingerprint}:{certificate.user_id}"


def signable_tasks(*, user: User, task_ids: list[int]) -> tuple[list[HumanTask], dict[int, str]]:
    """The tasks the user may sign now, and the refusal of each other one (by id)."""
    ready: list[HumanTask] = []
    refused: dict[int, str] = {}
    for task_id in dict.fromkeys(task_ids):
        try:
            task = visible_task(task_id, user)
            signing_check(task, user)
        except ApplicationError as error:
            refused[task_id] = error.message
            continue
        ready.append(task)
    return ready, refused


def task_label(task: HumanTask) -> dict[str, str]:
    """How a signature task is named to its signer in each language: the case's subject and number."""
    number = task.instance.shown_number
    return {
        language: f"{task.subject_in(language) or task.title_in(language)} (№ {number})"
        for language in ("kk", "ru", "en")
    }


def batch_sign_start(*, user: User, task_ids: list[int], passphrase: str) -> Job:
    """Check the selection, open the key with the passphrase, and start the job that signs each task."""
    if not task_ids:
        raise ValidationFailed(_("Select the tasks to sign."), fields={"tasks": [_("Select at least one task.")]})
    if len(task_ids) > MAX_BATCH:
        message = _("At most %(count)d tasks can be signed at once.") % {"count": MAX_BATCH}
        raise ValidationFailed(message, fields={"tasks": [message]})
    tasks, refused = signable_tasks(user=user, task_ids=task_ids)
    if refused:
        reasons = [f"#{task_id}: {message}" for task_id, message in refused.items()]
        raise ValidationFailed(
            _("Some of the selected tasks cannot be signed by you now."), code="not_signable", fields={"tasks": reasons}
        )
    seals = {is_seal_task(task) for task in tasks}
    if len(seals) > 1:
        message = _("Sign the e-seal tasks and your own signature tasks separately.")
        raise ValidationFailed(message, fields={"tasks": [message]})
    key = signing_key_open(user=user, passphrase=passphrase, seal=seals.pop())
    session = vault.SessionKey.new()
    session_name = secrets.token_urlsafe(24)
    cache.set(_CACHE_PREFIX + session_name, session.as_text(), timeout=int(SESSION_TTL.total_seconds()))
    sealed = vault.seal_for_session(key=key.credential.private_key, session=session, label=_label(key.certificate))
    data = {task.pk: signing_form_data(task) for task in tasks}
    return job_start(
        kind=KIND,
        owner=user,
        title=in_each_language(lambda _language: _("Signing %(count)d documents") % {"count": len(tasks)}),
        items=[(str(task.pk), task_label(task)) for task in tasks],
        params={
            "certificate": key.certificate.pk,
            "session": session_name,
            "sealed_key": sealed,
            "data": {str(pk): value for pk, value in data.items()},
        },
        back_url="/inbox/",
    )


# The key a worker opened for the job it is running, kept in its memory for the job's other items (opened once
# per job and worker process, not per document); only while the session lasts in the cache, and forgotten when
# the process's run of the job ends (every worker that ran some of its items forgets it).
_opened: dict[tuple[int, str], SigningKey] = {}


def _key_for(job: Job) -> SigningKey:
    session = str(job.params.get("session", ""))
    text = cache.get(_CACHE_PREFIX + session)
    sealed = job.params.get("sealed_key", "")
    if not text or not sealed:
        _opened.pop((job.pk, session), None)
        raise ApplicationError(
            _("The signing session has expired; select the remaining tasks and sign them again."),
            code="session_expired",
        )
    held = _opened.get((job.pk, session))
    if held is None:
        certificate = SignerCertificate.objects.get(pk=job.params["certificate"])
        private_key = vault.open_for_session(
            sealed=sealed, session=vault.SessionKey.from_text(text), label=_label(certificate)
        )
        _opened.clear()  # a worker runs one job at a time: an earlier job's key goes
        held = _opened[(job.pk, session)] = SigningKey.opened(certificate, private_key)
    return held


def _run_item(job: Job, item: JobItem) -> dict[str, Any]:
    owner = job.owner
    if owner is None:
        raise ApplicationError(_("The signer of this batch is no longer known."))
    key = _key_for(job)
    task_id = int(item.key)
    data = job.params.get("data", {}).get(item.key, {})
    task = task_sign_with_key(task_id=task_id, user=owner, key=key, data=data)
    return {"url": f"/tasks/{task.pk}/"}


def _forget(job: Job) -> None:
    """This process's run of the job is over: the key it opened goes from its memory."""
    _opened.pop((job.pk, str(job.params.get("session", ""))), None)


def _finish(job: Job) -> None:
    """Forget the session: the key in the cache, the wrapped key in the job, the opened key in memory."""
    _forget(job)
    cache.delete(_CACHE_PREFIX + str(job.params.get("session", "")))
    params = {k: v for k, v in job.params.items() if k != "sealed_key"}
    Job.objects.filter(pk=job.pk).update(params=params)


register_job_kind(KIND, run_item=_run_item, on_finish=_finish, after_run=_forget, parallel=True)
