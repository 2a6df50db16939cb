"""Batch signing from the inbox: review the selected signature tasks, then enter the passphrase once (a job signs)
or confirm once in NCALayer (the page signs each document through the cms-signature endpoints: ncalayer_batch.js)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.core.exceptions import ApplicationError, ValidationFailed
from backend.core.http import authenticated_user
from backend.signatures import batch
from backend.signatures.task_signing import documents_to_sign, is_seal_task
from backend.workflow.models import HumanTask
from backend.workflow.selectors import visible_task


def _ids(request: HttpRequest) -> list[int]:
    return [int(value) for value in request.POST.getlist("task") if value.isdigit()]


def ncalayer_items(tasks: list[HumanTask]) -> tuple[list[dict[str, object]], int]:
    """The documents NCALayer signs, in the order of the list (a task's documents in its order), each named for the
    signer; and how many e-seal tasks are left out (the e-seal is applied with its custodian's passphrase only)."""
    language = get_language()
    items: list[dict[str, object]] = []
    seals = 0
    for task in tasks:
        if is_seal_task(task):
            seals += 1
            continue
        subject = task.subject_in(language) or task.title_in(language)
        for document in documents_to_sign(task):
            items.append(
                {
                    "document": document.pk,
                    "task": task.pk,
                    "label": f"{document.title} № {document.number} — {subject}",
                    "prepare": reverse("api:document-cms-prepare", args=[document.pk]),
                    "post": reverse("api:document-cms-signature", args=[document.pk]),
                }
            )
    return items, seals


def refusals(user: Any, refused: dict[int, str]) -> list[tuple[str, str]]:
    """(name, reason) of each task left out: named by its case when the person may see it, else by its number."""
    language = get_language() or "kk"
    named = []
    for task_id, reason in refused.items():
        try:
            label = batch.task_label(visible_task(task_id, user)).get(language, f"#{task_id}")
        except ApplicationError:
            label = f"#{task_id}"
        named.append((label, reason))
    return named


@require_POST
@login_required
def batch_sign(request: HttpRequest) -> HttpResponse:
    """First POST (from the inbox): the review list. Second POST (with the passphrase): the job starts."""
    user = authenticated_user(request)
    task_ids = _ids(request)
    if not task_ids:
        messages.error(request, _("Select the signature tasks to sign."))
        return redirect("web:inbox")
    tasks, refused = batch.signable_tasks(user=user, task_ids=task_ids)
    error = ""
    if request.POST.get("action") == "sign" and not refused:
        try:
            job = batch.batch_sign_start(user=user, task_ids=task_ids, passphrase=request.POST.get("passphrase", ""))
        except ValidationFailed as failure:
            error = " ".join(failure.fields.get("passphrase", [])) or failure.message
        else:
            return redirect("web:job", pk=job.pk)
    items, seals = ncalayer_items(tasks)
    return render(
        request,
        "inbox/batch_sign.html",
        {
            "tasks": tasks,
            "refused": refusals(user, refused),
            "error": error,
            "max": batch.MAX_BATCH,
            "ncalayer_items": items,
            "ncalayer_seals_left_out": seals,
        },
        status=400 if error else 200,
    )


urlpatterns = [path("inbox/sign/", batch_sign, name="inbox-sign")]
