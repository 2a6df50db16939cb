"""Who may see which case, on pages, in the API and in exports; auditors read everything and change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from backend.cases.read_only import ALLOWED
from backend.workflow.models import ProcessDefinition, ProcessInstance
from tests.conftest import user
from tests.inbox.conftest import start_case

pytestmark = pytest.mark.django_db

# person → which of the two cases (teacher1's, teacher2's) they may see
MATRIX = {
    "auditor1": {"teacher1", "teacher2"},
    "registrar_head1": {"teacher1", "teacher2"},
    "department_head1": {"teacher1", "teacher2"},  # offered both reviews: a participant
    "teacher1": {"teacher1"},
    "teacher2": {"teacher2"},
    "teacher4": set(),
    "student1": set(),
    "it_staff1": set(),
}


@pytest.fixture
def two_cases(engine_test_process: ProcessDefinition) -> dict[str, ProcessInstance]:
    return {"teacher1": start_case("teacher1"), "teacher2": start_case("teacher2")}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_role_by_case_matrix(two_cases: dict[str, ProcessInstance], username: str) -> None:
    client = Client()
    client.force_login(user(username))
    api = APIClient()
    api.force_authenticate(user(username))
    listed = {row["number"] for row in api.get("/api/cases/", {"page_size": 100}).json()["results"]}
    exported = client.get("/cases/", {"export": "csv"}).content.decode("utf-8-sig")
    for owner, case in two_cases.items():
        allowed = owner in MATRIX[username]
        expected = 200 if allowed else 404
        assert client.get(f"/cases/{case.number}/").status_code == expected, (username, owner)
        assert client.get(f"/cases/{case.number}/diagram.bpmn").status_code == expected
        assert api.get(f"/api/cases/{case.number}/").status_code == expected
        assert api.get(f"/api/cases/{case.number}/evidence/").status_code == expected
        assert (case.number in listed) is allowed
        assert (case.number in exported) is allowed


def test_an_unknown_number_and_an_anonymous_visitor_learn_nothing(two_cases: dict[str, ProcessInstance]) -> None:
    client = Client()
    number = two_cases["teacher1"].number
    assert client.get(f"/cases/{number}/").status_code == 302  # to the login page
    assert APIClient().get(f"/api/cases/{number}/").status_code in (401, 403)
    client.force_login(user("auditor1"))
    assert client.get("/cases/TR-2026-999999/").status_code == 404


def _paths(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every URL of the site with sample arguments, with its view name."""
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if route.startswith("^") or "(?P" in route:
            continue  # regex routes: the admin and static files, checked below by hand
        route = re.sub(r"<int:\w+>", "1", route)
        route = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", route)
        route = re.sub(r"<(?:str|slug|path):\w+>|<\w+>", "x", route)
        if isinstance(entry, URLResolver):
            namespace = entry.namespace
            for path, name in _paths(entry, prefix + route):
                yield path, f"{namespace}:{name}" if namespace and name else name
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if view is not None and AllowAny in getattr(view, "permission_classes", ()):
                continue  # public endpoints (token, activation link, verification): open to anyone, no login
            yield prefix + route, entry.name or ""


def test_auditors_are_refused_every_write(two_cases: dict[str, ProcessInstance]) -> None:
    auditor = user("auditor1")
    client = Client()
    client.force_login(auditor)
    api = APIClient()
    api.force_authenticate(auditor)
    checked = refused = 0
    for path, name in _paths(get_resolver()):
        if name in ALLOWED:
            continue
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api if path.startswith("api/") else client, method)("/" + path)
            # 403, or 405 where the endpoint has no such method at all (the API schema): nothing changes either way
            assert response.status_code in (403, 405), (method, path, response.status_code)
            refused += response.status_code == 403
            checked += 1
    assert checked > 100
    assert refused > checked * 0.9
    # The admin too, and an operation a person of the Registrar office may do.
    assert client.post("/admin/accounts/user/1/change/", {}).status_code == 403
    case = two_cases["teacher1"]
    assert api.post(f"/api/instances/{case.pk}/cancel/", {"reason": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "running"


def test_an_auditor_may_still_log_out_and_ask_for_evidence_sets(two_cases: dict[str, ProcessInstance]) -> None:
    client = Client()
    client.force_login(user("auditor1"))
    response = client.post("/cases/evidence/", {"process": "qujat_engine_test"})
    assert response.status_code == 302
    assert "/jobs/" in response["Location"]
    assert client.post("/i18n/setlang/", {"language": "ru"}).status_code == 302
    assert client.post("/logout/").status_code == 302


def test_a_registrar_head_keeps_their_writes(two_cases: dict[str, ProcessInstance]) -> None:
    api = APIClient()
    api.force_authenticate(user("registrar_head1"))
    case = two_cases["teacher1"]
    assert api.post(f"/api/instances/{case.pk}/suspend/", {"reason": "audit"}).status_code == 200


def test_a_role_given_or_taken_counts_on_the_next_request_of_a_token_kept_in_the_cache(
    two_cases: dict[str, ProcessInstance],
) -> None:
    from backend.accounts.models import OrgUnit, RoleAssignment
    from tests.conftest import api_as

    # Given an auditor calling the API with a token (kept in the cache, with her roles, after the first call)
    api = api_as("auditor1")
    case = two_cases["teacher1"]
    assert api.post(f"/api/instances/{case.pk}/suspend/", {"reason": "audit"}).status_code == 403

    # When she is made head of the Registrar office, then her next write is hers to make
    university = OrgUnit.objects.get(parent__isnull=True)
    head = RoleAssignment.objects.create(user=user("auditor1"), role="registrar_head", org_unit=university)
    assert api.post(f"/api/instances/{case.pk}/suspend/", {"reason": "audit"}).status_code == 200

    # and when the role is taken back, the very next write is refused again
    head.delete()
    assert api.post(f"/api/instances/{case.pk}/resume/", {"reason": "audit"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "suspended"
