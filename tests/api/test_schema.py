"""The OpenAPI schema describes the API as it answers (the full check is the Schemathesis run beside this)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.conftest import api_as


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_operation_documents_its_errors_in_the_one_error_shape(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code", "fields"]
    for path, method, operation in operations(schema):
        errors = {code: answer for code, answer in operation["responses"].items() if code >= "400"}
        assert errors, (method, path)
        for answer in errors.values():
            assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if operation.get("security"):  # public operations have none
            assert {"401", "403"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= set(errors), (method, path)


def test_the_token_answer_is_documented_as_the_201_it_is(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/auth/token/"]["post"]["responses"]
    assert "201" in responses
    assert "200" not in responses
    assert set(responses) >= {"400", "429"}


def test_paginated_lists_are_documented_as_the_envelope(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for path in ("/api/tasks/", "/api/instances/", "/api/transcripts/requests/", "/api/reopen/requests/"):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        envelope = components[ref.rsplit("/", 1)[1]]
        assert set(envelope["properties"]) == {"count", "next", "previous", "results"}, path
        assert {p["name"] for p in operation["parameters"]} >= {"page", "page_size"}, path


def test_one_component_per_serializer(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    me = schema["paths"]["/api/me/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    token = schema["paths"]["/api/auth/token/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert me != token
    assert "full_name" in components[me["$ref"].rsplit("/", 1)[1]]["properties"]
    transcript = schema["paths"]["/api/transcripts/requests/{id}/"]["get"]["responses"]["200"]
    reopen = schema["paths"]["/api/reopen/requests/{id}/"]["get"]["responses"]["200"]
    assert transcript["content"] != reopen["content"]


def test_each_process_start_and_each_step_form_is_a_typed_body(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    forms_dir = Path(settings.BPMN_DIR) / "forms"
    for start in sorted(forms_dir.glob("*/start.json")):
        key = start.parent.name
        body = schema["paths"][f"/api/processes/{key}/start/"]["post"]["requestBody"]
        assert body["required"] is True
        ref = body["content"]["application/json"]["schema"]["$ref"]
        documented = components[ref.rsplit("/", 1)[1]]
        form = json.loads(start.read_text())
        assert documented["properties"] == form["properties"]
        assert documented.get("allOf") == form.get("allOf")
    completion = schema["paths"]["/api/tasks/{id}/complete/"]["post"]["requestBody"]["content"]["application/json"]
    steps = {ref["$ref"].rsplit("/", 1)[1] for ref in completion["schema"]["anyOf"]}
    assert "JournalReopenVisaForm" in steps
    assert "TranscriptIssuanceReviewForm" in steps
    assert len(steps) == len([p for p in forms_dir.glob("*/*.json") if p.name != "start.json"])
    assert "/api/processes/{key}/start/" not in schema["paths"]  # the generic route: each process has its own
    bulk = schema["paths"]["/api/inbox/bulk-complete/"]["post"]["requestBody"]["content"]["application/json"]
    assert bulk["schema"]["required"] == ["tasks", "data"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in bulk["schema"]["properties"]["data"]["anyOf"]} == steps


@pytest.mark.django_db
def test_a_path_the_api_does_not_have_is_a_json_404(demo: None) -> None:
    for url in ("/api/no-such-thing/", "/api/tasks/-1/", "/api/tasks/abc/complete/"):
        response = api_as("student1").get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert APIClient().get("/api/schema/").status_code == 200
