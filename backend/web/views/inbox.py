"""Pages of inbox (included by backend/web/urls.py): the task list, a task's page and what is done on it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backend.accounts.models import User
from backend.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound, ValidationFailed
from backend.core.http import authenticated_user, private_file
from backend.inbox import selectors, services
from backend.inbox.filetypes import CONTENT_TYPES, EXTENSIONS
from backend.inbox.taskform import TaskForm, form_data, task_form
from backend.inbox.timeline import timeline
from backend.signatures import task_signing
from backend.signatures.keyring import passphrase_status
from backend.workflow import forms
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask, ProcessInstance
from backend.workflow.selectors import visible_task

from .inbox_list import SCOPES, SORTS, PageView

View = Callable[..., HttpResponseBase]


def refusals_as_pages(view: View) -> View:
    """NotFound and Forbidden from a service become the plain 404 and 403 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except Forbidden:
            raise PermissionDenied from None

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


# --- the list ---------------------------------------------------------------------------------------------------


@require_GET
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    filters = selectors.InboxFilters.from_query(request.GET)
    page = PageView(selectors.inbox_page(user=user, filters=filters))
    context: dict[str, Any] = {"page": page, "filters": page.filters}
    if _is_htmx(request):
        # Only the list is replaced: no request context, so the header's queries are not run for nothing.
        return HttpResponse(render_to_string("inbox/_list.html", context))
    context.update(
        processes=selectors.process_choices(),
        scopes=SCOPES,
        sorts=SORTS,
        page_sizes=selectors.PAGE_SIZES,
        saved_filters=list(selectors.saved_filters(user)),
        current_query=page.filters.query_string(with_paging=False),
    )
    return render(request, "inbox/inbox.html", context)


@require_POST
@login_required
@refusals_as_pages
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    query = request.POST.get("query", "")
    try:
        saved = services.saved_filter_save(user=user, name=request.POST.get("name", ""), query=query)
    except ValidationFailed as error:
        messages.error(request, _message(error))
        return redirect(f"{reverse('web:inbox')}?{query}")
    messages.success(request, _("The filter “%(name)s” is saved.") % {"name": saved.name})
    return redirect(f"{reverse('web:inbox')}?{saved.query}")


@require_POST
@login_required
@refusals_as_pages
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.saved_filter_delete(user=authenticated_user(request), filter_id=pk)
    messages.success(request, _("The saved filter is deleted."))
    return redirect("web:inbox")


@require_POST
@login_required
def bulk_complete(request: HttpRequest) -> HttpResponse:
    """Queue the approval of the selected routine tasks; the job's page shows, task by task, what went through."""
    user = authenticated_user(request)
    task_ids = [int(value) for value in request.POST.getlist("task") if value.isdigit()]
    data: dict[str, Any] = {"decision": request.POST.get("decision") or "approve"}
    if request.POST.get("comment", "").strip():
        data["comment"] = request.POST["comment"].strip()
    back = f"{reverse('web:inbox')}?{request.POST.get('query', '')}"
    try:
        job = services.tasks_bulk_start(user=user, task_ids=task_ids, data=data, back_url=back)
    except ValidationFailed as error:
        messages.error(request, error.message)
        return redirect(back)
    return redirect("web:job", pk=job.pk)


# --- a task -----------------------------------------------------------------------------------------------------


def _signing(task: HumanTask, user: User, error: str = "") -> dict[str, Any] | None:
    """What the task page needs to offer signing on a signature step: the documents, the passphrase state."""
    if not task_signing.is_signature_task(task):
        return None
    record = passphrase_status(user)
    locked = bool(record and record.locked_until and record.locked_until > timezone.now())
    return {
        "documents": task_signing.documents_to_sign(task),
        "error": error,
        "locked": locked,
        "has_passphrase": record is not None,
    }


def _task_page(
    request: HttpRequest,
    task: HumanTask,
    user: User,
    *,
    form: TaskForm | None = None,
    status: int = 200,
    signing_error: str = "",
) -> HttpResponse:
    instance: ProcessInstance = task.instance
    definition = instance.definition
    may = selectors.task_permissions(task, user)
    if form is None and may.can_complete:
        form = task_form(definition.forms.get(task.spec_id), language=get_language())
    signing = _signing(task, user, signing_error) if may.can_complete else None
    # A signer sees exactly what they sign (not the unnumbered preview the staff checked).
    documents = signing["documents"] if signing else selectors.documents_of(task)
    number = instance.shown_number
    context = {
        "task": task,
        "instance": instance,
        "process_title": definition.title_in(),
        "subject": selectors.case_subject(task.subject_in(), definition.title_in(), number),
        "number": number,
        "form": form if may.can_complete else None,
        "can_complete": may.can_complete,
        "can_claim": may.can_claim,
        "can_release": may.can_release,
        "delegates": may.delegates,
        "acting_for": may.acting_for,
        "claimed_by_other": may.claimed_by_other,
        "contributes": may.can_contribute,
        "documents": documents,
        "comments": list(selectors.comments_of(instance)),
        "attachments": list(selectors.attachments_of(instance)),
        "timeline": timeline(instance),
        "accept": ",".join(f".{ext}" for ext in EXTENSIONS) + "," + ",".join(sorted(set(CONTENT_TYPES.values()))),
        "signing": signing,
    }
    return render(request, "inbox/task.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@refusals_as_pages
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The task: its documents, form, history, comments and files; a POST completes it."""
    user = authenticated_user(request)
    task = visible_task(pk, user)
    if request.method == "GET":
        services.task_view_record(user=user, task=task)
        return _task_page(request, task, user)
    schema = task.instance.definition.forms.get(task.spec_id, forms.EMPTY_FORM)
    data = form_data(schema, request.POST)
    signature_step = task_signing.is_signature_task(task)
    try:
        if signature_step:
            task_signing.task_sign(task_id=pk, user=user, passphrase=request.POST.get("passphrase", ""), data=data)
        else:
            workflow.task_complete(task_id=pk, user=user, data=data)
    except ValidationFailed as error:
        passphrase_errors = error.fields.get("passphrase", [])
        other = {name: reasons for name, reasons in error.fields.items() if name != "passphrase"}
        form = task_form(schema, language=get_language(), values=request.POST, errors=other)
        if not error.fields:
            form.errors.append(error.message)
        messages.error(request, error.message)
        return _task_page(
            request, task, user, form=form, status=400, signing_error=" ".join(str(m) for m in passphrase_errors)
        )
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("web:task", pk=pk)
    messages.success(request, _("Done: “%(task)s” is completed.") % {"task": task.title_in()})
    return redirect("web:inbox")


def _message(error: ApplicationError) -> str:
    """The refusal with its field-level reasons, for a one-line message on the page."""
    reasons = [m for messages_ in error.fields.values() for m in messages_ if m != error.message]
    return " ".join([error.message, *reasons])


def _task_action(
    request: HttpRequest, pk: int, action: Callable[[User], Any], done: str, *, then: str = ""
) -> HttpResponse:
    user = authenticated_user(request)
    try:
        action(user)
    except (Conflict, ValidationFailed) as error:
        messages.error(request, _message(error))
        return redirect("web:task", pk=pk)
    messages.success(request, done)
    return redirect(then) if then else redirect("web:task", pk=pk)


@require_POST
@login_required
@refusals_as_pages
def task_claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(
        request, pk, lambda user: workflow.task_claim(task_id=pk, user=user), _("The task is yours now.")
    )


@require_POST
@login_required
@refusals_as_pages
def task_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(
        request,
        pk,
        lambda user: workflow.task_release(task_id=pk, user=user),
        _("The task is released; your colleagues can take it."),
    )


@require_POST
@login_required
@refusals_as_pages
def task_delegate(request: HttpRequest, pk: int) -> HttpResponse:
    def delegate(user: User) -> None:
        to = request.POST.get("to", "")
        to_user = User.objects.filter(pk=int(to), is_active=True).first() if to.isdigit() else None
        if to_user is None:
            visible_task(pk, user)  # someone else's task is a 404 before any word about the form
            raise ValidationFailed(_("Choose the colleague to hand the task to."))
        workflow.task_delegate(task_id=pk, user=user, to_user=to_user)

    return _task_action(request, pk, delegate, _("The task is handed over."), then=reverse("web:inbox"))


@require_POST
@login_required
@refusals_as_pages
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(
        request,
        pk,
        lambda user: services.comment_create(task_id=pk, user=user, text=request.POST.get("text", "")),
        _("Your comment is added."),
    )


@require_POST
@login_required
@refusals_as_pages
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    def attach(user: User) -> None:
        upload = request.FILES.get("file")
        if upload is None:
            visible_task(pk, user)
            raise ValidationFailed(_("Choose a file to attach."))
        services.attachment_create(task_id=pk, user=user, upload=upload)

    return _task_action(request, pk, attach, _("The file is attached."))


@require_GET
@login_required
@refusals_as_pages
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponseBase:
    task = visible_task(pk, authenticated_user(request))
    attachment = selectors.attachment_of_task(task, attachment_id)
    return private_file(
        attachment.file,
        filename=attachment.name,
        content_type=CONTENT_TYPES.get(attachment.kind, "application/octet-stream"),
    )


@require_GET
@login_required
@refusals_as_pages
def document_pdf(request: HttpRequest, pk: int, document_id: int) -> HttpResponseBase:
    """A generated document of the task's case, for the viewer; only for people who may see the task."""
    task = visible_task(pk, authenticated_user(request))
    document = selectors.document_of_task(task, document_id)
    return private_file(
        document.pdf,
        filename=f"{document.title or document.kind}.pdf",
        content_type="application/pdf",
        download=request.GET.get("download") == "1",
    )


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/filters/", saved_filter_save, name="inbox-filter-save"),
    path("inbox/filters/<int:pk>/delete/", saved_filter_delete, name="inbox-filter-delete"),
    path("inbox/bulk/", bulk_complete, name="inbox-bulk"),
    path("tasks/<int:pk>/", task_page, name="task"),
    path("tasks/<int:pk>/claim/", task_claim, name="task-claim"),
    path("tasks/<int:pk>/release/", task_release, name="task-release"),
    path("tasks/<int:pk>/delegate/", task_delegate, name="task-delegate"),
    path("tasks/<int:pk>/comments/", comment_add, name="task-comment"),
    path("tasks/<int:pk>/attachments/", attachment_add, name="task-attach"),
    path("tasks/<int:pk>/attachments/<int:attachment_id>/", attachment_download, name="task-attachment"),
    path("tasks/<int:pk>/documents/<int:document_id>/pdf/", document_pdf, name="task-document"),
]
