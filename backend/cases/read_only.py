"""Auditors read everything and change nothing: every unsafe request of a person whose only role is auditor
is refused, on pages (a middleware) and in the API (a default permission), whatever the view would allow.

The only writes left to them are their own session (log in and out, the language) and asking for evidence
packages, which changes no case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from backend.accounts.roles import Role
from backend.accounts.selectors import active_roles

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# View names (namespace:name) an auditor may still POST to.
ALLOWED = {
    "web:login",
    "web:logout",
    "set_language",
    "web:case-evidence-set",
    "api:auth-token",
    "api:case-evidence-set",
}


def read_only(user: Any) -> bool:
    """Whether the person is an auditor and nothing else (an auditor who also holds a role acts in that role)."""
    if user is None or not user.is_authenticated or user.is_superuser:
        return False
    return active_roles(user) == {Role.AUDITOR}


def _allowed(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and match.view_name in ALLOWED


class AuditorsReadOnly:
    """Pages: an auditor's POST, PUT, PATCH or DELETE is a 403 page before the view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method in SAFE_METHODS or request.path.startswith("/api/") or _allowed(request):
            return None
        if read_only(getattr(request, "user", None)):
            return render(request, "403.html", status=403)
        return None


class NotAnAuditorWrite(BasePermission):
    """API: the same rule for token and session callers (DRF authenticates inside the view)."""

    message = _("Auditors may read but not change anything.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or _allowed(request._request):
            return True
        return not read_only(request.user)
