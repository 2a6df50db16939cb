"""Plain error pages in the user's language, never a stack trace; the API answers the same in its JSON shape."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(message: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message, "code": code, "fields": {}}, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(_("You do not have permission to perform this action."), "permission_denied", 403)
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(_("Not found."), "not_found", 404)
    return render(request, "404.html", status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(_("The request could not be processed."), "bad_request", 400)
    return render(request, "400.html", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(_("Something went wrong on our side. Please try again in a minute."), "server_error", 500)
    # No request context: the failure may be the database the header would query. The language the
    # request was served in is still active, so the page speaks it.
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return _api_error(_("The form has expired: reload the page and send it again."), "csrf_failed", 403)
    return render(request, "csrf_failure.html", status=403)


def locked_out(request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any) -> HttpResponse:
    """Too many failed logins: JSON for API clients, a page for people."""
    message = _("Too many failed attempts. Try again in 15 minutes.")
    if _is_api(request):
        return JsonResponse({"detail": str(message), "code": "locked_out", "fields": {}}, status=429)
    return render(request, "web/locked_out.html", status=429)
