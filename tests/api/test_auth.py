"""API authentication: tokens for API clients, throttled failed logins, the OpenAPI schema."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from backend.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_a_token_is_issued_for_a_correct_password_and_only_its_hash_is_stored(demo: None) -> None:
    response = APIClient().post("/api/auth/token/", {"username": "teacher1", "password": "demo"}, format="json")
    assert response.status_code == 201
    key = response.json()["token"]
    stored = ApiToken.objects.get(user__username="teacher1")
    assert key not in (stored.key_hash, stored.prefix)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "teacher1"
    assert {r["role"] for r in me.json()["roles"]} == {"teacher"}


def test_a_wrong_password_gets_a_field_error(demo: None) -> None:
    response = APIClient().post("/api/auth/token/", {"username": "teacher1", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_missing_fields_are_named(demo: None) -> None:
    response = APIClient().post("/api/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_login_even_with_the_right_password(demo: None) -> None:
    client = APIClient()
    for _ in range(3):
        client.post("/api/auth/token/", {"username": "teacher3", "password": "wrong"}, format="json")
    locked = client.post("/api/auth/token/", {"username": "teacher3", "password": "demo"}, format="json")
    assert locked.status_code == 429
    assert "15 minutes" in locked.json()["detail"]


def test_an_unknown_token_is_refused() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/me/").status_code == 401


def test_a_deactivated_users_token_is_refused_on_the_next_request(demo: None) -> None:
    from tests.conftest import api_as

    client = api_as("teacher4")
    assert client.get("/api/me/").status_code == 200
    User.objects.filter(username="teacher4").update(is_active=False)
    assert client.get("/api/me/").status_code == 401


def test_the_openapi_schema_and_swagger_ui_are_served(demo: None) -> None:
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/auth/token/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
