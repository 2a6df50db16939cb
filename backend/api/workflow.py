"""Processes, instances, history and tasks: what the inbox, the cabinet and the audit pages use."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import completion_body, start_body
from backend.core.http import authenticated_user
from backend.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from backend.workflow import forms, selectors, services
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class ProcessSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.SerializerMethodField()
    can_start = serializers.SerializerMethodField()

    def get_title(self, definition: ProcessDefinition) -> str:
        return definition.title_in(get_language())

    def get_can_start(self, definition: ProcessDefinition) -> bool:
        return selectors.can_start(definition, self.context["user"])


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id")
    process = serializers.CharField(source="process_key")
    task = serializers.CharField(source="spec_id")
    title = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    role = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.CharField(source="assignee.username", default=None, allow_null=True)
    requester = serializers.CharField(source="requester.full_name", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    priority = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_title(self, task: HumanTask) -> str:
        return task.title_in(get_language())

    def get_subject(self, task: HumanTask) -> str:
        return task.subject_in(get_language())


class TaskDetailSerializer(TaskSerializer):
    form = serializers.SerializerMethodField()
    submitted_data = serializers.JSONField()
    instance_status = serializers.CharField(source="instance.status")
    process_data = serializers.JSONField(source="instance.data")

    def get_form(self, task: HumanTask) -> dict[str, Any]:
        schema = task.instance.definition.forms.get(task.spec_id, forms.EMPTY_FORM)
        return forms.localized(schema, get_language())


class InstanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The case number, e.g. TR-2026-000123 (its page: /cases/<number>/).")
    process = serializers.CharField(source="process_key")
    version = serializers.IntegerField(source="definition.version")
    status = serializers.CharField()
    business_key = serializers.CharField()
    subject = serializers.SerializerMethodField()
    started_by = serializers.CharField(source="started_by.username", default=None, allow_null=True)
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    incident = serializers.CharField()
    revision = serializers.IntegerField(source="version", help_text="Increases with every change.")

    def get_subject(self, instance: ProcessInstance) -> str:
        return instance.subject_in(get_language())


class InstanceDetailSerializer(InstanceSerializer):
    process_data = serializers.JSONField(source="data")
    open_tasks = serializers.SerializerMethodField()

    def get_open_tasks(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        tasks = instance.tasks.filter(status=HumanTask.Status.OPEN).select_related("assignee", "requester")
        return list(TaskSerializer(tasks, many=True).data)


class HistoryEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    actor_name = serializers.CharField(source="actor.full_name", default=None, allow_null=True)
    at = serializers.DateTimeField()
    payload = serializers.JSONField()
    hash = serializers.CharField()
    prev_hash = serializers.CharField()


class ProcessListApi(APIView):
    """Deployed processes (latest versions) and whether the caller may start each."""

    @extend_schema(responses=ProcessSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        definitions = selectors.latest_definitions()
        return Response(ProcessSerializer(definitions, many=True, context={"user": user}).data)


class ProcessStartApi(APIView):
    """Start a process; the body is its start form's data (the process then checks it against the records).

    Each process with a start form has its own route, so the schema documents its body by that form.
    """

    process_key = ""

    def schema_request_body(self, registry: Any) -> dict[str, Any]:
        return start_body(registry, self.process_key)

    @extend_schema(responses={201: InstanceDetailSerializer}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, key: str = "") -> Response:
        user = authenticated_user(request)
        # The instance as the start saved it (its state, number, status and revision are current).
        instance = services.instance_start(process_key=key or self.process_key, user=user, data=request.data)
        return Response(InstanceDetailSerializer(instance).data, status=status.HTTP_201_CREATED)


class AnyProcessStartApi(ProcessStartApi):
    """A process without a start form of its own route (not in the schema: every deployed one has a route)."""

    @extend_schema(exclude=True)
    def post(self, request: Request, key: str = "") -> Response:
        return super().post(request, key)


class InstanceListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("process", str),
            OpenApiParameter("status", str, enum=ProcessInstance.Status.values),
            OpenApiParameter("started_by", str, description="username"),
            OpenApiParameter("business_key", str),
        ],
        responses=InstanceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        instances = selectors.instances_for(user)
        params = request.query_params
        if params.get("process"):
            instances = instances.filter(process_key=params["process"])
        if params.get("status"):
            instances = instances.filter(status=params["status"])
        if params.get("started_by"):
            instances = instances.filter(started_by__username=params["started_by"])
        if params.get("business_key"):
            instances = instances.filter(business_key=params["business_key"])
        paginator = Pagination()
        page = paginator.paginate_queryset(instances.order_by("-started_at"), request, view=self)
        return paginator.get_paginated_response(InstanceSerializer(page, many=True).data)


class InstanceDetailApi(APIView):
    @extend_schema(responses=InstanceDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(InstanceDetailSerializer(selectors.visible_instance(pk, authenticated_user(request))).data)


class InstanceHistoryApi(APIView):
    """The instance's hash-chained history, oldest first."""

    @extend_schema(responses=HistoryEventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        instance = selectors.visible_instance(pk, authenticated_user(request))
        return Response(HistoryEventSerializer(selectors.history_of(instance), many=True).data)


class InstanceReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RetrySerializer(serializers.Serializer):
    process_data = serializers.DictField(required=False, default=dict, help_text="Corrected process data, if any.")


class InstanceOperationApi(APIView):
    """Suspend, resume, cancel (with a reason) or retry an instance: registrar head or administrators."""

    operation = ""

    def schema_request_body(self, registry: Any) -> type[serializers.Serializer]:
        return RetrySerializer if self.operation == "retry" else InstanceReasonSerializer

    @extend_schema(responses=InstanceDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        selectors.visible_instance(pk, user)
        if self.operation == "retry":
            retry = RetrySerializer(data=request.data)
            retry.is_valid(raise_exception=True)
            instance = services.instance_retry(instance_id=pk, user=user, data=retry.validated_data["process_data"])
        else:
            body = InstanceReasonSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            reason = body.validated_data["reason"]
            if self.operation == "suspend":
                instance = services.instance_suspend(instance_id=pk, user=user, reason=reason)
            elif self.operation == "resume":
                instance = services.instance_resume(instance_id=pk, user=user)
            else:
                instance = services.instance_cancel(instance_id=pk, user=user, reason=reason)
        instance.refresh_from_db()
        return Response(InstanceDetailSerializer(instance).data)


class FilterSerializer(serializers.Serializer):
    process = serializers.CharField(required=False)
    instance = serializers.IntegerField(required=False, min_value=1)
    overdue = serializers.BooleanField(required=False, default=None, allow_null=True)
    due_before = serializers.DateTimeField(required=False)


class TaskListApi(APIView):
    """The caller's inbox: tasks assigned to them and tasks offered to them (or to someone they substitute)."""

    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("process", str),
            OpenApiParameter(
                "instance",
                int,
                description="Only the tasks of this process instance (its id), e.g. to find the first task of a "
                "case just started.",
            ),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("due_before", OpenApiTypes.DATETIME),
        ],
        responses=TaskSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        params = FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        tasks = selectors.filter_tasks(selectors.inbox(user), **params.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(tasks.order_by("due_at", "created_at", "pk"), request, view=self)
        return paginator.get_paginated_response(TaskSerializer(page, many=True).data)


class TaskDetailApi(APIView):
    """A task with its form (labels in the caller's language)."""

    @extend_schema(responses=TaskDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(TaskDetailSerializer(selectors.visible_task(pk, authenticated_user(request))).data)


class TaskClaimApi(APIView):
    @extend_schema(request=None, responses=TaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.task_claim(task_id=pk, user=authenticated_user(request))
        return Response(TaskSerializer(task).data)


class TaskReleaseApi(APIView):
    @extend_schema(request=None, responses=TaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.task_release(task_id=pk, user=authenticated_user(request))
        return Response(TaskSerializer(task).data)


class TaskCompleteApi(APIView):
    """Complete a task: the body is its form's data; bad input gets field-level messages and changes nothing."""

    def schema_request_body(self, registry: Any) -> dict[str, Any]:
        return completion_body(registry)

    @extend_schema(responses=TaskSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        task = services.task_complete(task_id=pk, user=authenticated_user(request), data=request.data)
        return Response(TaskSerializer(task).data)
