"""API authentication: tokens for API clients, throttled failed logins, the OpenAPI schema."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from backend.accounts.models import ApiToken, User
from backend.accounts.services import api_tokens_revoke, user_deactivate
from tests.conftest import api_as

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


def token_reads(client: APIClient) -> int:
    """How many statements one request spends reading API tokens."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me/").status_code == 200
    return sum(1 for query in queries.captured_queries if "accounts_apitoken" in query["sql"])


def test_a_known_token_is_not_read_from_the_database_again(demo: None) -> None:
    client = api_as("teacher4")
    assert token_reads(client) == 2  # read, and "last used" stamped
    assert token_reads(client) == 0
    assert ApiToken.objects.get(user__username="teacher4").last_used_at is not None


def test_a_deactivated_users_token_is_refused_on_the_next_request(demo: None) -> None:
    client = api_as("teacher4")
    assert client.get("/api/me/").status_code == 200
    assert client.get("/api/me/").status_code == 200  # now known without the database
    teacher = User.objects.get(username="teacher4")
    teacher.is_active = False
    teacher.save(update_fields=["is_active"])  # as the admin does
    assert client.get("/api/me/").status_code == 401


def test_offboarding_refuses_the_token_on_the_next_request(demo: None) -> None:
    client = api_as("teacher4")
    assert client.get("/api/me/").status_code == 200
    assert client.get("/api/me/").status_code == 200
    user_deactivate(user=User.objects.get(username="teacher4"))
    assert client.get("/api/me/").status_code == 401


def test_a_revoked_token_is_refused_on_the_next_request(demo: None) -> None:
    revoked, other = api_as("teacher4"), api_as("teacher3")
    for client in (revoked, other, revoked, other):
        assert client.get("/api/me/").status_code == 200
    api_tokens_revoke(user=User.objects.get(username="teacher4"))
    assert revoked.get("/api/me/").status_code == 401
    assert other.get("/api/me/").status_code == 200


def test_logging_out_revokes_the_token_it_was_made_with(demo: None) -> None:
    client, second = api_as("teacher4"), api_as("teacher4")
    assert client.get("/api/me/").status_code == 200
    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/me/").status_code == 401
    assert second.get("/api/me/").status_code == 200  # the person's other clients stay logged in


def test_a_login_does_not_forget_the_known_tokens(demo: None) -> None:
    client = api_as("teacher4")
    token_reads(client)
    User.objects.get(username="teacher3").save(update_fields=["last_login"])
    assert token_reads(client) == 0


def test_the_openapi_schema_and_swagger_ui_are_served(demo: None) -> None:
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/auth/token/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
