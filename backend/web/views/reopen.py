"""Pages of the journal reopen procedure: a teacher's requests, a new request, one request, the report."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from backend.academics.models import AcademicPeriod, Journal, JournalMark, LessonType
from backend.api.reopen import report_allowed, report_file
from backend.core.exceptions import ApplicationError
from backend.core.http import authenticated_user
from backend.core.params import query_int, query_text
from backend.documents.models import GeneratedDocument
from backend.reopen import selectors, services
from backend.reopen.models import ReasonCategory, ReopenRequest
from backend.workflow import services as workflow
from backend.workflow.selectors import history_of


class JournalChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Journal) -> str:
        return f"{obj.discipline.code} {obj.discipline.name} — {obj.group.name} — {obj.get_lesson_type_display()}"


class NewRequestForm(forms.Form):
    """Turns the page's fields into the start form's values; the rules are bpmn/forms/journal_reopen/start.json's
    and backend/reopen/services.py's, and their messages land on these fields."""

    journal = JournalChoiceField(queryset=Journal.objects.none(), label=_("Closed journal"), required=False)
    lesson_types = forms.MultipleChoiceField(
        choices=LessonType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Lesson types"),
        help_text=_("Leave empty to reopen only the chosen journal."),
    )
    wrong_entry_date = forms.DateField(
        label=_("Date of the wrong entry"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason_category = forms.ChoiceField(
        choices=[("", "—"), *ReasonCategory.choices], label=_("Kind of reason"), required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What went wrong and what you will correct."),
    )

    def __init__(self, *args: Any, teacher: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["journal"]
        assert isinstance(field, JournalChoiceField)  # noqa: S101 - declared above
        field.queryset = selectors.journals_to_reopen(teacher)


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    requests = selectors.requests_for(user).order_by("-submitted_at")
    year = query_text(request.GET, "academic_year", max_length=20)
    if year:
        requests = requests.filter(academic_year=year)
    return render(
        request,
        "reopen/list.html",
        {
            "requests": requests[:200],
            "can_request": selectors.journals_to_reopen(user).exists(),
            "years": sorted(set(AcademicPeriod.objects.values_list("academic_year", flat=True)), reverse=True),
            "year": year,
            "can_report": _can_report(user),
        },
    )


def _can_report(user: Any) -> bool:
    try:
        report_allowed(user)
    except ApplicationError:
        return False
    return True


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    form = NewRequestForm(request.POST or None, teacher=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        body: dict[str, Any] = {"reason": data["reason"]}
        if data["journal"] is not None:
            body["journal"] = data["journal"].pk
        if data["wrong_entry_date"] is not None:
            body["wrong_entry_date"] = data["wrong_entry_date"].isoformat()
        if data["reason_category"]:
            body["reason_category"] = data["reason_category"]
        if data["lesson_types"]:
            body["lesson_types"] = data["lesson_types"]
        try:
            instance = workflow.instance_start(process_key=services.PROCESS_KEY, user=user, data=body)
        except ApplicationError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, _("Your request was sent to the head of the department."))
            return redirect("web:reopen-detail", pk=instance.reopen_request.pk)
    return render(request, "reopen/new.html", {"form": form})


def _visible(user: Any, pk: int) -> ReopenRequest:
    reopen = selectors.requests_for(user).filter(pk=pk).first()
    if reopen is None:
        raise Http404
    return reopen


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = authenticated_user(request)
    reopen = _visible(user, pk)
    if request.method == "POST":
        try:
            services.journal_mark_change(
                request=reopen,
                journal_id=int(request.POST.get("journal", 0)),
                student_id=int(request.POST.get("student", 0)),
                lesson_date=date.fromisoformat(request.POST.get("lesson_date", "")),
                value=request.POST.get("value", ""),
                user=user,
            )
            messages.success(request, _("The mark was changed."))
        except (ValueError, ApplicationError) as error:
            messages.error(request, getattr(error, "message", _("The mark could not be changed.")))
            fields = getattr(error, "fields", {})
            for problems in fields.values():
                for problem in problems:
                    messages.error(request, problem)
        return redirect("web:reopen-detail", pk=reopen.pk)
    editable = reopen.window_open and reopen.teacher_id == user.pk
    grids = []
    for journal in reopen.journals.select_related("discipline", "group"):
        marks = (
            JournalMark.objects.filter(journal=journal)
            .select_related("student")
            .order_by("student__last_name", "student__first_name", "lesson_date")
        )
        dates = sorted({m.lesson_date for m in marks})
        rows: dict[int, dict[str, Any]] = {}
        for mark in marks:
            row = rows.setdefault(mark.student_id, {"student": mark.student, "cells": {}})
            row["cells"][mark.lesson_date] = mark.value
        grids.append(
            {
                "journal": journal,
                "dates": dates,
                "rows": [
                    {"student": r["student"], "cells": [(d, r["cells"].get(d, "")) for d in dates]}
                    for r in rows.values()
                ],
            }
        )
    return render(
        request,
        "reopen/detail.html",
        {
            "reopen": reopen,
            "documents": GeneratedDocument.objects.filter(instance=reopen.instance).order_by("created_at"),
            "history": history_of(reopen.instance).select_related("actor"),
            "changes": reopen.changes.select_related("student", "changed_by"),
            "grids": grids,
            "editable": editable,
        },
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    try:
        report_allowed(user)
    except ApplicationError as error:
        return render(request, "403.html", {"message": error.message}, status=403)
    periods = AcademicPeriod.objects.order_by("-starts_on")
    chosen = (
        periods.filter(pk=query_int(request.GET, "period") or 0).first()
        or periods.filter(reopenrequest__isnull=False).first()
        or periods.first()
    )
    if chosen is None:
        raise Http404
    semester = selectors.semester_report(chosen)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return report_file(semester, fmt)
    return render(request, "reopen/report.html", {"report": semester, "periods": periods, "chosen": chosen})


urlpatterns = [
    path("reopen/", request_list, name="reopen-list"),
    path("reopen/new/", request_new, name="reopen-new"),
    path("reopen/<int:pk>/", request_detail, name="reopen-detail"),
    path("reopen/report/", report, name="reopen-report"),
]
