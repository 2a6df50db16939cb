"""A refusal (ApplicationError) that leaves a page's view becomes a plain page with its message and status."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.core.exceptions import ApplicationError


class RefusalPages:
    """Pages usually put a refusal's messages on their form; whatever a view does not catch (a bad query
    parameter, say) is shown here instead of becoming a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        problems = [message for messages in exception.fields.values() for message in messages]
        return render(
            request,
            "refused.html",
            {"message": exception.message, "problems": problems},
            status=exception.status_code,
        )
