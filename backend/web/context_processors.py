"""What every page's header shows: the person, their roles, the unread-tasks counter."""

from typing import Any

from django.http import HttpRequest

from backend.accounts.selectors import user_roles
from backend.inbox.selectors import unread_count


def _assignments(request: HttpRequest) -> list[Any]:
    """The user's role assignments, read once per request for the header and the menu."""
    cached = getattr(request, "_qujat_assignments", None)
    if cached is None:
        cached = user_roles(request.user)  # type: ignore[arg-type]
        request._qujat_assignments = cached  # type: ignore[attr-defined]
    return cached


def header(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = sorted({a.get_role_display() for a in _assignments(request)})
    return {"header_roles": roles, "unread_tasks": unread_count(user)}


# Which menu entries a person sees, by the roles they hold.
MENU: dict[str, set[str]] = {
    "reopen": {
        "teacher",
        "department_head",
        "dean_curation",
        "school_dean",
        "vice_rector",
        "registrar_inspector",
        "registrar_staff",
        "registrar_head",
        "auditor",
    },
    "transcripts": {
        "student",
        "registrar_staff",
        "registrar_head",
        "registrar_inspector",
        "school_dean",
        "department_head",
        "auditor",
    },
    "access": {"department_head", "dean_office", "it_head", "it_staff", "auditor"},
    "monitor": {
        "department_head",
        "dean_curation",
        "school_dean",
        "vice_rector",
        "registrar_inspector",
        "registrar_staff",
        "registrar_head",
        "auditor",
    },
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = {a.role for a in _assignments(request)}
    menu = {entry: user.is_superuser or bool(roles & allowed) for entry, allowed in MENU.items()}
    # Cases: every role sees some (its own requests, the steps it took part in, or all for auditors); read from
    # the assignments already loaded for the header, so the menu costs no query.
    menu["cases"] = user.is_superuser or bool(roles)
    return {"menu": menu}
