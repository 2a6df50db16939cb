"""The landing page: what this person can do today."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.accounts.selectors import user_roles
from backend.core.http import authenticated_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"assignments": user_roles(authenticated_user(request))})
