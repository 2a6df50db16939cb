"""Pages of transcript issuance: the student's cabinet, a request, the registry journal, group batches."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.academics.models import StudyGroup
from backend.api.transcripts import preview, registry_file
from backend.core.exceptions import ApplicationError
from backend.core.http import authenticated_user, private_file
from backend.core.params import query_choice, query_int
from backend.transcripts import selectors, services
from backend.transcripts.models import Batch, Notice, TranscriptKind, TranscriptRequest
from backend.transcripts.selectors import REGISTRY_YEARS
from backend.workflow import services as workflow
from backend.workflow.models import ProcessInstance
from backend.workflow.selectors import history_of


class RequestForm(forms.Form):
    """Turns the page's fields into the start form's values; the rules are those of
    bpmn/forms/transcript_issuance/start.json and backend/transcripts/services.py."""

    kind = forms.ChoiceField(label=_("Kind"))
    whole = forms.BooleanField(label=_("The whole study"), required=False, initial=True)
    periods = forms.MultipleChoiceField(
        label=_("Or only these periods"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label=_("Reason"), required=False, help_text=_("Where you will present the transcript."))
    language = forms.ChoiceField(label=_("Language"), choices=[("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")])
    electronic = forms.BooleanField(
        label=_("Electronic copy (PDF signed with a QR code)"), required=False, initial=True
    )
    paper_copies = forms.IntegerField(label=_("Paper copies"), required=False, initial=0)

    def __init__(self, *args: Any, student: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.name) for k in TranscriptKind.objects.filter(is_active=True)]  # type: ignore[attr-defined]
        self.fields["periods"].choices = [(p.pk, p.title()) for p in selectors.periods_of(student)]  # type: ignore[attr-defined]


def _apply_errors(form: forms.Form, error: ApplicationError) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
    if not error.fields:
        form.add_error(None, error.message)


@login_required
def cabinet(request: HttpRequest) -> HttpResponse:
    """The student's transcripts (or, for the Registrar office and deans, everyone's they may see)."""
    user = authenticated_user(request)
    requests = selectors.requests_for(user).order_by("-requested_at")[:100]
    notices = list(Notice.objects.filter(user=user, read_at__isnull=True)[:10])
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(read_at=timezone.now())
    student = selectors.student_of(user)
    return render(
        request,
        "transcripts/cabinet.html",
        {
            "rows": [(r, r.instance.get_stage_display()) for r in requests],
            "notices": notices,
            "student": student,
            "is_staff": selectors.is_staff(user),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    student = selectors.student_of(user)
    if student is None:
        raise Http404
    form = RequestForm(request.POST or None, student=student, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        body = {
            "kind": data["kind"],
            "periods": [] if data["whole"] else [int(p) for p in data["periods"]],
            "reason": data["reason"],
            "language": data["language"],
            "electronic": data["electronic"],
            "paper_copies": data["paper_copies"] or 0,
        }
        try:
            instance = workflow.instance_start(process_key=services.PROCESS_KEY, user=user, data=body)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request, _("Your request was sent to the Registrar office. It is issued within 3 working days.")
            )
            return redirect("web:transcript-detail", pk=TranscriptRequest.objects.get(instance=instance).pk)
    return render(request, "transcripts/new.html", {"form": form})


def _visible(user: Any, pk: int) -> TranscriptRequest:
    found = selectors.requests_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = authenticated_user(request)
    transcript_request = _visible(user, pk)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            services.transcript_cancel(request=transcript_request, user=user, reason=str(_("withdrawn by the student")))
            messages.success(request, _("The request was withdrawn."))
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("web:transcript-detail", pk=pk)
    stage = transcript_request.instance.stage
    publication = getattr(transcript_request.document, "publication", None) if transcript_request.document else None
    return render(
        request,
        "transcripts/detail.html",
        {
            "r": transcript_request,
            "stage": stage,
            "stage_display": transcript_request.instance.get_stage_display(),
            "history": [e for e in history_of(transcript_request.instance) if e.kind not in ("task_created",)],
            "preview": preview(transcript_request),
            "publication": publication,
            "can_cancel": transcript_request.student.user_id == user.pk
            and stage in (ProcessInstance.Stage.REVIEW, ProcessInstance.Stage.QUESTION),
            "can_download": selectors.signed_pdf_for(transcript_request, user) is not None,
        },
    )


@login_required
def request_pdf(request: HttpRequest, pk: int) -> FileResponse:
    user = authenticated_user(request)
    transcript_request = _visible(user, pk)
    publication = selectors.signed_pdf_for(transcript_request, user)
    if publication is None:
        raise Http404
    return private_file(
        publication.signed_pdf,
        filename=f"transcript-{transcript_request.number}.pdf",
        download=request.GET.get("download") == "1",
    )


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not selectors.is_staff(user):
        return render(request, "403.html", status=403)
    year = query_int(request.GET, "year", minimum=REGISTRY_YEARS[0], maximum=REGISTRY_YEARS[1])
    export = query_choice(request.GET, "export", ("", "csv", "xlsx"), "")
    entries = selectors.registry(year=year)
    if export:
        return registry_file(entries, export)
    return render(request, "transcripts/registry.html", {"entries": entries[:500], "year": year or ""})


class BatchForm(forms.Form):
    group = forms.ModelChoiceField(queryset=StudyGroup.objects.order_by("name"), label=_("Group"))
    kind = forms.ChoiceField(label=_("Kind"))
    language = forms.ChoiceField(label=_("Language"), choices=[("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")])
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False, initial=_("graduation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.name) for k in TranscriptKind.objects.filter(is_active=True)]  # type: ignore[attr-defined]


@login_required
def batches(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not selectors.is_staff(user):
        return render(request, "403.html", status=403)
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.batch_create(
                group_id=form.cleaned_data["group"].pk,
                kind=form.cleaned_data["kind"],
                language=form.cleaned_data["language"],
                reason=form.cleaned_data["reason"],
                user=user,
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The transcripts are being generated; this page shows the progress."))
            return redirect("web:transcript-batches")
    return render(
        request,
        "transcripts/batches.html",
        {"form": form, "batches": [b.refresh_from_job() for b in Batch.objects.select_related("group", "job")[:20]]},
    )


@login_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.is_staff(authenticated_user(request)):
        raise Http404
    batch = Batch.objects.select_related("group", "job").filter(pk=pk).first()
    if batch is None:
        raise Http404
    return render(request, "transcripts/batch_progress.html", {"batch": batch.refresh_from_job()})


urlpatterns = [
    path("transcripts/", cabinet, name="transcripts"),
    path("transcripts/new/", request_new, name="transcript-new"),
    path("transcripts/<int:pk>/", request_detail, name="transcript-detail"),
    path("transcripts/<int:pk>/pdf", request_pdf, name="transcript-pdf"),
    path("transcripts/registry/", registry, name="transcript-registry"),
    path("transcripts/batches/", batches, name="transcript-batches"),
    path("transcripts/batches/<int:pk>/progress", batch_progress, name="transcript-batch-progress"),
]
