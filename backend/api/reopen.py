"""REST endpoints of reopen (included by backend/api/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
