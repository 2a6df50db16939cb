"""Pages of login requests: the requests and their status, new requests (teachers, a student group, a
deactivation), one request with its progress, the accounts created, and the public activation page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import formset_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from backend.academics.models import Journal, StudyGroup
from backend.access import activation, selectors
from backend.access.models import AccessRequest
from backend.access.starting import MAX_TEACHERS, PROCESS_KEY
from backend.accounts.models import User
from backend.core.exceptions import ApplicationError
from backend.core.http import authenticated_user
from backend.core.ratelimit import allow
from backend.documents.models import GeneratedDocument
from backend.signatures.models import PublishedDocument
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask
from backend.workflow.selectors import acting_capacity, history_of

LANGUAGE_CHOICES = [("", _("as the head of department's")), *list(User.Language.choices)]
ACTIVATION_LIMIT_PER_MINUTE = 30


# --- forms ------------------------------------------------------------------------------------------------------


class JournalChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Journal) -> str:
        return (
            f"{obj.discipline.code} {obj.discipline.name} — {obj.group.name} — {obj.get_lesson_type_display()}"
            f" ({obj.teacher.short_name})"
        )


# The forms below only turn what the page posts into the start form's values: every rule about them is in
# bpmn/forms/login_request/start.json and in backend/access/starting.py, whose messages land on these fields.


class RequestForm(forms.Form):
    department = forms.ChoiceField(label=_("Department"), required=False)

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(d.code, d.name) for d in departments]


class TeacherForm(forms.Form):
    position = forms.CharField(label=_("Position"), required=False)
    last_name = forms.CharField(label=_("Surname"), required=False)
    first_name = forms.CharField(label=_("Name"), required=False)
    patronymic = forms.CharField(label=_("Patronymic"), required=False)
    email = forms.CharField(
        label=_("E-mail"), required=False, help_text=_("The activation link is sent here."), widget=forms.EmailInput
    )
    start_date = forms.DateField(label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    iin = forms.CharField(label=_("IIN"), required=False, help_text=_("Optional, 12 digits."))
    language = forms.ChoiceField(label=_("Language of the e-mails"), choices=LANGUAGE_CHOICES, required=False)
    journals = JournalChoiceField(
        label=_("Journals to hand over"),
        queryset=Journal.objects.none(),
        required=False,
        help_text=_("Optional: journals of your department this teacher takes over."),
    )

    def __init__(self, *args: Any, journals: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["journals"]
        assert isinstance(field, JournalChoiceField)  # noqa: S101 - declared above
        field.queryset = journals if journals is not None else Journal.objects.none()


TeacherFormSet = formset_factory(TeacherForm, extra=0, min_num=1, max_num=MAX_TEACHERS, validate_min=True)


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StudyGroup) -> str:
        return f"{obj.name} — {obj.specialty.code} {obj.specialty.name}, {obj.course}"


class StudentsForm(forms.Form):
    group = GroupChoiceField(label=_("Group"), queryset=StudyGroup.objects.none(), required=False)

    def __init__(self, *args: Any, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, GroupChoiceField)  # noqa: S101 - declared above
        field.queryset = groups


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.username})"


class OffboardingForm(forms.Form):
    account = AccountChoiceField(
        label=_("Teacher"), queryset=User.objects.none(), to_field_name="username", required=False
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, teachers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, AccountChoiceField)  # noqa: S101 - declared above
        field.queryset = teachers


class ActivationForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _accessible(*all_forms: forms.Form) -> None:
    """Bootstrap classes, and each widget tied to its help text and errors (aria-describedby, aria-invalid)."""
    for form in all_forms:
        errors = form.errors if form.is_bound else {}
        for name, field in form.fields.items():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            widget.attrs["class"] = css + (" is-invalid" if name in errors else "")
            auto_id = form[name].auto_id
            described = [f"{auto_id}_help"] if field.help_text else []
            if name in errors:
                described.append(f"{auto_id}_errors")
                widget.attrs["aria-invalid"] = "true"
            if described:
                widget.attrs["aria-describedby"] = " ".join(described)
            if isinstance(widget, forms.SelectMultiple):
                widget.attrs["size"] = 6


def _refused(request: HttpRequest, message: Any) -> HttpResponse:
    return render(request, "access/refused.html", {"message": message}, status=403)


def _refusal_to_form(error: ApplicationError, form: forms.Form, formset: Any = None) -> None:
    """Put a refusal's field messages on the fields they name ("teachers.1.email" on the second teacher)."""
    placed = False
    for name, problems in error.fields.items():
        parts = name.split(".")
        target, field = form, name
        if formset is not None and len(parts) == 3 and parts[0] == "teachers" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(formset.forms):
                target, field = formset.forms[index], parts[2]
        for problem in problems:
            if field in target.fields:
                target.add_error(field, problem)
                placed = True
            else:
                form.add_error(None, problem)
                placed = True
    if not placed or not error.fields:
        form.add_error(None, error.message)


def _start(request: HttpRequest, body: dict[str, Any]) -> AccessRequest:
    instance = workflow.instance_start(process_key=PROCESS_KEY, user=authenticated_user(request), data=body)
    return AccessRequest.objects.get(instance=instance)


# --- pages ------------------------------------------------------------------------------------------------------


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    requests = selectors.requests_for(user).order_by("-submitted_at", "-pk")
    kind = request.GET.get("kind", "")
    if kind in AccessRequest.Kind.values:
        requests = requests.filter(kind=kind)
    return render(
        request,
        "access/list.html",
        {
            "requests": requests[:200],
            "kind": kind,
            "kinds": AccessRequest.Kind.choices,
            "can_request_teachers": bool(selectors.headed_departments(user)),
            "can_request_students": bool(selectors.dean_office_schools(user)),
            "sees_accounts": selectors.oversees(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def teachers_new(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    departments = selectors.headed_departments(user)
    if not departments:
        return _refused(request, _("Only a head of department may ask for teachers' accounts."))
    journals = selectors.journals_for_handover(departments)
    form = RequestForm(request.POST or None, departments=departments)
    formset = TeacherFormSet(request.POST or None, prefix="teachers", form_kwargs={"journals": journals})
    if request.method == "POST" and "add" in request.POST:
        # Another teacher's row; what was typed stays (nothing is checked yet).
        rows = [
            {name: request.POST.get(f"teachers-{i}-{name}", "") for name in TeacherForm.base_fields}
            | {"journals": request.POST.getlist(f"teachers-{i}-journals")}
            for i in range(int(request.POST.get("teachers-TOTAL_FORMS") or 1))
        ]
        form = RequestForm(initial={"department": request.POST.get("department")}, departments=departments)
        formset = TeacherFormSet(
            prefix="teachers", initial=[*rows, {}][:MAX_TEACHERS], form_kwargs={"journals": journals}
        )
    elif request.method == "POST" and form.is_valid() and formset.is_valid():
        teachers = []
        for row in formset.cleaned_data:
            if not row:  # an extra row left untouched
                continue
            teacher = {k: v for k, v in row.items() if k not in ("journals", "start_date") and v not in ("", None)}
            if row.get("start_date"):
                teacher["start_date"] = row["start_date"].isoformat()
            teacher["journals"] = [j.pk for j in row.get("journals") or []]
            teachers.append(teacher)
        body: dict[str, Any] = {"kind": "teachers", "teachers": teachers}
        if form.cleaned_data["department"]:
            body["department"] = form.cleaned_data["department"]
        try:
            access = _start(request, body)
        except ApplicationError as error:
            _refusal_to_form(error, form, formset)
        else:
            messages.success(request, _("Your request was filed. Sign the memo in your tasks to send it to IT."))
            return redirect("web:access-detail", pk=access.pk)
    _accessible(form, *formset.forms)
    return render(request, "access/new.html", {"form": form, "formset": formset})


@login_required
@require_http_methods(["GET", "POST"])
def students_new(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not selectors.dean_office_schools(user):
        return _refused(request, _("Only the dean's office may ask for students' accounts."))
    form = StudentsForm(request.POST or None, groups=selectors.groups_for(user))
    if request.method == "POST" and form.is_valid():
        try:
            group = form.cleaned_data["group"]
            access = _start(request, {"kind": "students", **({"group": group.pk} if group else {})})
        except ApplicationError as error:
            _refusal_to_form(error, form)
        else:
            messages.success(request, _("The accounts are being created; this page shows how far it has got."))
            return redirect("web:access-detail", pk=access.pk)
    _accessible(form)
    return render(request, "access/students.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def offboarding_new(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    departments = selectors.headed_departments(user)
    if not departments:
        return _refused(request, _("Only a head of department may ask to deactivate a teacher's account."))
    form = OffboardingForm(request.POST or None, teachers=selectors.teachers_of(departments).exclude(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        account = form.cleaned_data["account"]
        body = {"kind": "offboarding", "reason": form.cleaned_data["reason"]}
        if account is not None:
            body["account"] = account.username
        try:
            access = _start(request, body)
        except ApplicationError as error:
            _refusal_to_form(error, form)
        else:
            messages.success(request, _("The deactivation was sent to the head of the IT department."))
            return redirect("web:access-detail", pk=access.pk)
    _accessible(form)
    return render(request, "access/offboarding.html", {"form": form})


# What the history's notes (`{"event": …}`) mean, in the reader's language; never the key itself.
NOTE_EVENTS = {
    "account_activated": _("the account was activated"),
    "account_created": _("an account was created"),
    "account_deactivated": _("the account was switched off"),
    "account_not_created": _("an account could not be created"),
    "account_reused": _("an existing account was reused"),
    "activation_links_resent": _("the activation links were sent again"),
    "activation_reminded": _("a reminder to activate was sent"),
    "document_annulled": _("a document was annulled"),
    "existing_account_found": _("an existing account was found"),
    "existing_account_refused": _("an existing account was not reused"),
    "group_accounts_created": _("the group's accounts were created"),
    "group_accounts_queued": _("the group's accounts are being created"),
    "journal_closed": _("a journal was closed"),
    "journal_handed_over": _("a journal was handed over"),
    "journal_reopened": _("a journal was reopened"),
    "memo_not_signed": _("the memo was not signed"),
    "request_closed": _("the request was closed"),
    "request_refused": _("the request was refused"),
}


def _history(access: AccessRequest) -> list[tuple[Any, str]]:
    """The case's events, each with what its note means (empty for events that are not notes)."""
    events = history_of(access.instance).select_related("actor")
    return [
        (e, str(NOTE_EVENTS.get(str(e.payload.get("event", "")), _("a note"))) if e.payload.get("event") else "")
        for e in events
    ]


def _visible(request: HttpRequest, pk: int) -> AccessRequest:
    access = selectors.requests_for(authenticated_user(request)).filter(pk=pk).first()
    if access is None:
        raise Http404
    return access


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = authenticated_user(request)
    access = _visible(request, pk)
    tasks = HumanTask.objects.filter(instance=access.instance, status=HumanTask.Status.OPEN)
    published = PublishedDocument.objects.filter(document=access.memo).first() if access.memo else None
    return render(
        request,
        "access/detail.html",
        {
            "access": access,
            "entries": selectors.entries_of(access),
            "documents": GeneratedDocument.objects.filter(instance=access.instance).order_by("created_at"),
            "published": published,
            "my_tasks": [t for t in tasks if acting_capacity(t, user)[0]],
            "open_tasks": tasks,
            "progress": selectors.progress_of(access),
            "history": _history(access),
        },
    )


@login_required
def request_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it while the accounts are being created)."""
    access = _visible(request, pk)
    return render(request, "access/_progress.html", {"access": access, "progress": selectors.progress_of(access)})


@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    try:
        entries = selectors.accounts_for(user)
    except ApplicationError as error:
        return _refused(request, error.message)
    return render(request, "access/accounts.html", {"entries": entries[:500]})


@require_http_methods(["GET", "POST"])
def activate_page(request: HttpRequest, token: str) -> HttpResponse:
    """The public page where a new account holder sets their own password (kk, ru or en)."""
    if not allow(request, scope="access-activation", limit=ACTIVATION_LIMIT_PER_MINUTE):
        return render(request, "signatures/too_many.html", status=429)
    chosen = request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    languages = {code for code, _name in settings.LANGUAGES}
    try:
        found = activation.token_check(token)
    except activation.LinkRefused as error:
        language = chosen if chosen in languages else translation.get_language()
        with translation.override(language):
            response = render(request, "access/activate.html", {"refused": error.message, "token": token}, status=410)
        return _private(response)
    language = chosen if chosen in languages else found.user.language
    with translation.override(language):
        form = ActivationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user = activation.account_activate(
                    raw_token=token,
                    password=form.cleaned_data["password"],
                    password_again=form.cleaned_data["password_again"],
                )
            except activation.LinkRefused as error:
                return _private(
                    render(request, "access/activate.html", {"refused": error.message, "token": token}, status=410)
                )
            except ApplicationError as error:
                _refusal_to_form(error, form)
            else:
                return _private(render(request, "access/activated.html", {"account": user}))
        _accessible(form)
        response = render(
            request,
            "access/activate.html",
            {
                "form": form,
                "account": found.user,
                "expires_at": timezone.localtime(found.expires_at),
                "token": token,
                "language": language,
            },
            status=400 if form.errors else 200,
        )
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    # The link is a credential: never cached, never sent to another site as a referrer. "same-origin" rather
    # than "no-referrer": with no referrer at all browsers post the form with `Origin: null`, which Django's
    # CSRF check rightly refuses.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


urlpatterns = [
    path("access/", request_list, name="access-list"),
    path("access/new/", teachers_new, name="access-new"),
    path("access/students/new/", students_new, name="access-students-new"),
    path("access/offboarding/new/", offboarding_new, name="access-offboarding-new"),
    path("access/accounts/", accounts, name="access-accounts"),
    path("access/<int:pk>/", request_detail, name="access-detail"),
    path("access/<int:pk>/progress/", request_progress, name="access-progress"),
    path("access/activate/<str:token>/", activate_page, name="access-activate"),
]
