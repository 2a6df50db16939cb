"""Request helpers shared by pages and the API."""

from typing import Any

from django.core.exceptions import PermissionDenied

from backend.accounts.models import User


def authenticated_user(request: Any) -> User:
    """The logged-in user of a page or API request that requires one."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user
