"""A bounded Schemathesis run over the whole OpenAPI schema, as five kinds of caller.

Every operation of /api/schema/ gets a few generated requests (bodies from the processes' own forms, ids,
query parameters) from each of: a student, a teacher, the head of the Registrar office, an auditor and an
anonymous caller. Every answer must be no server error, a documented status, a documented content type and
a body the schema describes. Operations on an `{id}` also run on a transcript request, its case and its
task that exist, as the student who started it and as the registrar head. The run is deterministic (derandomized) and bounded (MAX_EXAMPLES per operation
and caller), and goes through the real WSGI application on the test database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.accounts.models import User
from backend.accounts.services import api_token_issue
from backend.transcripts.models import TranscriptRequest
from backend.workflow.models import HumanTask
from backend.workflow.services import instance_start

MAX_EXAMPLES = 2
CALLERS = {
    "anonymous": None,
    "student": "student1",
    "teacher": "teacher1",
    "registrar_head": "registrar_head1",
    "auditor": "auditor1",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

APP = WSGIHandler()
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
SCHEMA.app = APP
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in SCHEMA.get_all_operations())}


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Requests run in the test's transaction: Django must not close the connection between them.

    (What django.test.Client does for its own requests.)
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def run_operation(operation: Any, headers: dict[str, str], path_parameters: dict[str, Any] | None = None) -> list[str]:
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(path_parameters=path_parameters))
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as failure:
            failures.append(f"{case.as_curl_command(headers)}\n  → {response.status_code}: {failure}"[:3000])

    check()
    return failures


# The student who started the case and the registrar head, who sees every case (others get the 404s above).
REAL_ID_CALLERS = ("student", "registrar_head")
REAL_ID_PREFIXES = ("/api/instances/", "/api/tasks/", "/api/inbox/tasks/", "/api/transcripts/requests/")


@pytest.fixture
def real_ids(demo: None) -> dict[str, int]:
    """A transcript request the student started, its case and its open task: ids that exist, for the {id}s."""
    started = instance_start(
        process_key="transcript_issuance",
        user=User.objects.get(username="student1"),
        data={"reason": "Жұмысқа ұсыну үшін", "language": "kk"},
    )
    instance = started.pk
    task = HumanTask.objects.get(instance_id=instance, status=HumanTask.Status.OPEN)
    return {
        "/api/instances/": instance,
        "/api/tasks/": task.pk,
        "/api/inbox/tasks/": task.pk,
        "/api/transcripts/requests/": TranscriptRequest.objects.get(instance_id=instance).pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_the_api_answers_as_its_schema_says(
    demo: None, wsgi_in_test_transaction: None, request: pytest.FixtureRequest, caller: str, operation: str
) -> None:
    username = CALLERS[caller]
    headers = (
        {"Authorization": f"Token {api_token_issue(user=User.objects.get(username=username))}"} if username else {}
    )
    api_operation = OPERATIONS[operation]
    failures = run_operation(api_operation, headers)
    real = [prefix for prefix in REAL_ID_PREFIXES if api_operation.path.startswith(prefix + "{id}")]
    if real and caller in REAL_ID_CALLERS:  # the same operation on an object that exists
        real_ids = request.getfixturevalue("real_ids")
        failures += run_operation(api_operation, headers, path_parameters={"id": real_ids[real[0]]})
    assert not failures, "\n\n".join(failures)
