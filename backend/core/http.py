"""Request helpers shared by pages and the API."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse

from backend.accounts.models import User


def authenticated_user(request: Any) -> User:
    """The logged-in user of a page or API request that requires one."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def private_file(file: Any, *, filename: str, content_type: str | None = None, download: bool = True) -> FileResponse:
    """A stored file sent only to someone the view has checked: never cached by proxies, never sniffed."""
    response = FileResponse(
        file.open("rb"), as_attachment=download, filename=filename.replace("/", "-"), content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
