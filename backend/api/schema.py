"""The OpenAPI schema describes the API as it answers: errors, pagination, and the processes' own forms.

- Every operation lists the error answers it can give (400/401/403/404/409/413/429), each in the one JSON
  shape of `backend.core.exceptions.api_exception_handler` (the `Error` component).
- A view with a `pagination_class` whose response is `Serializer(many=True)` is documented as the
  paginated envelope (`count`, `next`, `previous`, `results`) with its `page` and `page_size` parameters.
- A serializer class nested in a view is named after the view (`TokenObtainApi.OutputSerializer` is
  `TokenObtainOutput`), so two views' `OutputSerializer`s are two components.
- A view names the error answers its own checks add (`schema_error_statuses = (404,)`, say).
- A view may document its body by a process's JSON Schema form: `schema_request_body(registry)` returns the
  schema (see `start_body` and `completion_body`).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.hooks import postprocess_schema_enums
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework.permissions import AllowAny

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every refusal of the API: a message, a machine code and messages per field.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the caller's language."},
        "code": {"type": "string", "description": "A machine code: invalid, not_found, forbidden, conflict, …"},
        "fields": {
            "type": "object",
            "description": "Messages per field (dotted paths for nested fields); empty when no field is at fault.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code", "fields"],
}

ERROR_DESCRIPTIONS = {
    400: "Bad input: the fields at fault are named in `fields`.",
    401: "No valid credentials (send `Authorization: Token <token>`).",
    403: "The caller may not do this.",
    404: "There is no such object, or the caller may not see it.",
    409: "Someone else changed the same thing first; reload and try again.",
    410: "The link is unknown, spent or expired.",
    413: "The body is larger than the API accepts.",
    429: "Too many requests from this address; try again later.",
}

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part)


def form_as_openapi(form: dict[str, Any]) -> dict[str, Any]:
    """A task form (JSON Schema 2020-12 with `x-` labels) as an OpenAPI 3.1 schema: the same rules.

    OpenAPI 3.1 schemas are JSON Schema 2020-12, so `if`/`then`, `const` and `allOf` stay as they are; the
    labels and messages in kk/ru/en are `x-` extensions, which OpenAPI allows on every schema.
    """
    schema = copy.deepcopy(form)
    schema.pop("$schema", None)
    schema.pop("$id", None)
    title = schema.get("x-title")
    if isinstance(title, dict) and title.get("en") and "title" not in schema:
        schema["title"] = title["en"]
    return schema


@cache
def _forms_on_disk(forms_dir: str) -> dict[str, dict[str, dict[str, Any]]]:
    processes: dict[str, dict[str, dict[str, Any]]] = {}
    for directory in sorted(Path(forms_dir).iterdir()):
        if not directory.is_dir():
            continue
        processes[directory.name] = {
            path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))
        }
    return processes


def process_forms() -> dict[str, dict[str, dict[str, Any]]]:
    """The forms of the diagrams `migrate` deploys: {process key: {"start" or step form name: schema}}."""
    forms_dir = Path(settings.BPMN_DIR) / "forms"
    if not forms_dir.is_dir():
        return {}
    return _forms_on_disk(str(forms_dir))


def start_form_keys() -> list[str]:
    """Process keys that have a start form (each gets its own documented start operation)."""
    return [key for key, forms in process_forms().items() if "start" in forms]


# Components copied from the processes' forms: drf-spectacular's enum hook leaves them as the forms say.
FORM_COMPONENTS: set[str] = set()


def _register(registry: Any, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
    registry.register_on_missing(component)
    return dict(component.ref)


def start_body(registry: Any, process_key: str) -> dict[str, Any]:
    form = process_forms().get(process_key, {}).get("start")
    if form is None:
        return build_basic_type(OpenApiTypes.OBJECT) or {"type": "object"}
    name = f"{_camel(process_key)}Start"
    FORM_COMPONENTS.add(name)
    return _register(registry, name, form_as_openapi(form))


def completion_body(registry: Any) -> dict[str, Any]:
    """Any step form of the deployed diagrams; the task decides which one the body must satisfy."""
    refs = []
    for key, forms in process_forms().items():
        for step, form in forms.items():
            if step != "start":
                name = f"{_camel(key)}{_camel(step)}Form"
                FORM_COMPONENTS.add(name)
                refs.append(_register(registry, name, form_as_openapi(form)))
    return {
        "anyOf": refs,
        "description": "The data of the task's form (`form` in GET /api/tasks/{id}/): one of these step forms.",
    }


def bulk_body(registry: Any, max_tasks: int) -> dict[str, Any]:
    """The body of a bulk completion: the tasks, and the one step form's data each of them is completed with."""
    return {
        "type": "object",
        "required": ["tasks", "data"],
        "properties": {
            "tasks": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": max_tasks},
            "data": {
                **completion_body(registry),
                "description": "The form data every task is completed with (each task checks it against its own "
                'step form), e.g. {"decision": "approve"}.',
            },
        },
    }


def postprocess_enums(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's enum naming for the serializers' components; the forms keep their inline enums."""
    schemas = result.get("components", {}).get("schemas", {})
    forms = {name: schemas.pop(name) for name in list(schemas) if name in FORM_COMPONENTS}
    result = postprocess_schema_enums(result, generator, **kwargs)
    result.setdefault("components", {}).setdefault("schemas", {}).update(forms)
    result["components"]["schemas"] = dict(sorted(result["components"]["schemas"].items()))
    return result


class QujatAutoSchema(AutoSchema):
    """The project's schema class (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"])."""

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.split(".")[-2:]
            return outer.removesuffix("Api") + inner
        return str(type(serializer).__name__)

    def get_request_serializer(self) -> Any:
        body = getattr(self.view, "schema_request_body", None)
        if callable(body):
            schema = body(self.registry)
            # A dict is read as {media type: schema}; the API takes JSON.
            return {"application/json": schema} if isinstance(schema, dict) else schema
        return super().get_request_serializer()

    def _get_request_for_media_type(self, serializer: Any, direction: Any = "request") -> Any:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict) and callable(getattr(self.view, "schema_request_body", None)):
            required = True
        return schema, required

    # --- errors --------------------------------------------------------------------------------------
    def _public(self) -> bool:
        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _paginated(self) -> bool:
        return getattr(self.view, "pagination_class", None) is not None and self._is_list_view()

    def error_statuses(self) -> list[int]:
        has_body = self._get_request_body() is not None
        path_params = "{" in self.path
        statuses = set(getattr(self.view, "schema_error_statuses", ()))
        if has_body or any(parameter["in"] == "query" for parameter in self._get_parameters()):
            statuses.add(400)
        if has_body:
            statuses.add(413)
        if self.view.get_authenticators() and not self._public():
            statuses.update({401, 403})
        if path_params or self._paginated():
            statuses.add(404)
        if self.method in UNSAFE and not self._public():
            statuses.add(409)
        if self.view.get_throttles():
            statuses.add(429)
        return sorted(statuses)

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        ref = _register(self.registry, ERROR_COMPONENT, ERROR_SCHEMA)
        for status in self.error_statuses():
            responses.setdefault(
                str(status),
                {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": ref}}},
            )
        return responses

    def _resolve_path_parameters(self, variables: Any) -> Any:
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "integer":
                # Django's <int:…> converter matches digits only; ids are PostgreSQL integers or bigints.
                schema.setdefault("minimum", 0)
                schema.setdefault("maximum", 9223372036854775807)
        return parameters
