"""Pages of access (included by backend/web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
