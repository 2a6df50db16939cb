"""The public verification page: anyone holding a document checks it by its QR code, without logging in."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from backend.core.http import private_file
from backend.core.ratelimit import allow
from backend.signatures.selectors import check_upload, may_download, published_by_id, university_root, verification

MAX_UPLOAD = 20 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=_("A PDF you were given"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        data: bytes = upload.read()
        if not data.startswith(b"%PDF"):
            raise forms.ValidationError(_("This is not a PDF file."))
        return data


def _limited(request: HttpRequest) -> HttpResponse | None:
    if allow(request, scope="verify", limit=settings.QUJAT_VERIFY_RATE_PER_MINUTE):
        return None
    return render(request, "signatures/too_many.html", status=429)


def verify_page(request: HttpRequest, verification_id: str) -> HttpResponse:
    limited = _limited(request)
    if limited:
        return limited
    published = published_by_id(verification_id)
    if published is None:
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None)
    check = check_upload(published, form.cleaned_data["file"]) if request.method == "POST" and form.is_valid() else None
    return render(
        request,
        "signatures/verify.html",
        {
            "v": verification(published),
            "document": published.document,
            "form": form,
            "check": check,
            "can_download": may_download(published, request.user),  # type: ignore[arg-type]
            "root": university_root(),
        },
    )


def verify_download(request: HttpRequest, verification_id: str) -> FileResponse:
    published = published_by_id(verification_id)
    if published is None or not may_download(published, request.user):  # type: ignore[arg-type]
        raise Http404
    return private_file(
        published.signed_pdf, filename=f"{published.document.kind}-{published.document.number or published.pk}.pdf"
    )


def root_certificate(request: HttpRequest) -> HttpResponse:
    """The university's root certificate (public): readers add it to their PDF reader's trusted roots."""
    root = university_root()
    if root is None:
        raise Http404
    response = HttpResponse(root.pem, content_type="application/x-x509-ca-cert")
    response["Content-Disposition"] = 'attachment; filename="university-root-ca.crt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("ca/root.crt", root_certificate, name="root-certificate"),
    path("v/<str:verification_id>", verify_page, name="verify"),
    path("v/<str:verification_id>/pdf", verify_download, name="verify-download"),
]
