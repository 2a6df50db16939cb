"""Saved filters: a person names the inbox's filters and comes back to them, on the page and through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape

from backend.inbox.models import SavedFilter
from tests.conftest import api_as, user

pytestmark = pytest.mark.django_db


def test_save_list_and_delete_through_the_api(demo: None) -> None:
    client = api_as("department_head1")
    created = client.post(
        "/api/inbox/filters/", {"name": "Overdue", "query": "?overdue=1&page=3&bogus=1&sort=priority"}, format="json"
    )
    assert created.status_code == 201
    # Stored normalized: only known filters, never the page.
    assert created.json()["query"] == "sort=-priority&overdue=1"
    again = client.post("/api/inbox/filters/", {"name": "Overdue", "query": "process=journal_reopen"}, format="json")
    assert again.json()["id"] == created.json()["id"]  # the same name replaces
    assert [f["query"] for f in client.get("/api/inbox/filters/").json()] == ["process=journal_reopen"]
    assert api_as("department_head2").get("/api/inbox/filters/").json() == []
    assert api_as("department_head2").delete(f"/api/inbox/filters/{created.json()['id']}/").status_code == 404
    assert client.delete(f"/api/inbox/filters/{created.json()['id']}/").status_code == 204
    assert SavedFilter.objects.count() == 0
    nameless = client.post("/api/inbox/filters/", {"name": " ", "query": ""}, format="json")
    assert nameless.status_code == 400


def test_save_and_delete_on_the_page(demo: None, logged_in: Any) -> None:
    client = logged_in("department_head1")
    response = client.post("/inbox/filters/", {"name": "This week", "query": "due_week=1&q=Иванова"})
    assert response.status_code == 302
    saved = SavedFilter.objects.get(user=user("department_head1"))
    assert response["Location"] == f"/inbox/?{saved.query}"
    page = client.get("/inbox/").content.decode()
    assert "This week" in page
    assert f'href="/inbox/?{escape(saved.query)}"' in page
    assert 'aria-label="Delete the saved filter This week"' in page
    assert logged_in("department_head2").post(f"/inbox/filters/{saved.pk}/delete/").status_code == 404
    assert client.post(f"/inbox/filters/{saved.pk}/delete/").status_code == 302
    assert not SavedFilter.objects.exists()
