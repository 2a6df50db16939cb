"""Batch signing from the inbox: review the selected signature tasks, enter the passphrase once, follow the job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.core.exceptions import ValidationFailed
from backend.core.http import authenticated_user
from backend.signatures import batch


def _ids(request: HttpRequest) -> list[int]:
    return [int(value) for value in request.POST.getlist("task") if value.isdigit()]


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
    return render(
        request,
        "inbox/batch_sign.html",
        {"tasks": tasks, "refused": refused, "error": error, "max": batch.MAX_BATCH},
        status=400 if error else 200,
    )


urlpatterns = [path("inbox/sign/", batch_sign, name="inbox-sign")]
