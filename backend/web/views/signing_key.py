"""The person's signing key page (under their profile): set, change or reset the signing passphrase."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from backend.core.exceptions import ValidationFailed
from backend.core.http import authenticated_user
from backend.signatures import keyring
from backend.signatures.models import SignerCertificate


class PassphraseForm(forms.Form):
    current_passphrase = forms.CharField(
        label=_("Current signing passphrase"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    new_passphrase = forms.CharField(label=_("New signing passphrase"), widget=forms.PasswordInput)
    repeat = forms.CharField(label=_("The new passphrase again"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        if data.get("new_passphrase") and data.get("repeat") and data["new_passphrase"] != data["repeat"]:
            self.add_error("repeat", _("The two entries differ."))
        return data


class ResetForm(forms.Form):
    password = forms.CharField(label=_("Your account password"), widget=forms.PasswordInput)
    new_passphrase = forms.CharField(label=_("New signing passphrase"), widget=forms.PasswordInput)
    repeat = forms.CharField(label=_("The new passphrase again"), widget=forms.PasswordInput)
    understood = forms.BooleanField(
        label=_("I understand: my current keys are revoked and a new certificate is issued to me.")
    )

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        if data.get("new_passphrase") and data.get("repeat") and data["new_passphrase"] != data["repeat"]:
            self.add_error("repeat", _("The two entries differ."))
        return data


def _apply(form: forms.Form, error: ValidationFailed) -> None:
    for field, reasons in error.fields.items():
        for reason in reasons:
            form.add_error(field if field in form.fields else None, reason)
    if not error.fields:
        form.add_error(None, error.message)


@require_http_methods(["GET", "POST"])
@login_required
def signing_key(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    change = PassphraseForm(request.POST if action == "set" else None, prefix="set")
    reset = ResetForm(request.POST if action == "reset" else None, prefix="reset")
    status = 200
    if action == "set":
        if change.is_valid():
            try:
                keyring.passphrase_set(
                    user=user,
                    new_passphrase=change.cleaned_data["new_passphrase"],
                    current_passphrase=change.cleaned_data.get("current_passphrase", ""),
                )
            except ValidationFailed as error:
                _apply(change, error)
                if "passphrase" in error.fields:
                    change.add_error("current_passphrase", " ".join(error.fields["passphrase"]))
            else:
                messages.success(request, _("Your signing passphrase is set. Only you know it."))
                return redirect("web:signing-key")
        status = 400
    elif action == "reset":
        if reset.is_valid():
            try:
                keyring.passphrase_reset(
                    user=user,
                    account_password=reset.cleaned_data["password"],
                    new_passphrase=reset.cleaned_data["new_passphrase"],
                )
            except ValidationFailed as error:
                _apply(reset, error)
            else:
                messages.success(request, _("Your passphrase is reset: the old keys are revoked, a new one is issued."))
                return redirect("web:signing-key")
        status = 400
    elif request.method == "POST":
        status = 400
        messages.error(request, _("Choose what to do."))
    record = keyring.passphrase_status(user)
    certificates = SignerCertificate.objects.filter(user=user).order_by("-not_after", "-pk")
    return render(
        request,
        "signatures/signing_key.html",
        {
            "record": record,
            "locked": bool(record and record.locked_until and record.locked_until > timezone.now()),
            "certificates": certificates,
            "change": change,
            "reset": reset,
        },
        status=status,
    )


urlpatterns = [path("profile/signing-key/", signing_key, name="signing-key")]
