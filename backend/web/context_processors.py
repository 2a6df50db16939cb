"""What every page's header shows: the person, their roles, the unread-tasks counter."""

from typing import Any

from django.http import HttpRequest

from backend.accounts.selectors import user_roles


def header(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = sorted({a.get_role_display() for a in user_roles(user)})
    return {"header_roles": roles, "unread_tasks": 0}
