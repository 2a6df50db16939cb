"""Pages of signatures (included by backend/web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
