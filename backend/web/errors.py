"""Plain error pages: never a stack trace."""

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may be the database the header would query.
    return HttpResponseServerError(loader.get_template("500.html").render())


def locked_out(request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any) -> HttpResponse:
    """Too many failed logins: JSON for API clients, a page for people."""
    message = _("Too many failed attempts. Try again in 15 minutes.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(message), "code": "locked_out", "fields": {}}, status=429)
    return render(request, "web/locked_out.html", status=429)
