"""The process monitor's numbers over the API: the same selectors as the pages, the same scope."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.http import authenticated_user
from backend.core.params import query_choice, query_int
from backend.monitor import selectors, services, sketch
from backend.monitor.scope import monitor_scope

from .workflow import Pagination

SKETCHED = (
    f"Working time from merged daily histograms: within {sketch.RELATIVE_ERROR:.0%} of the exact percentile_cont."
)

FILTERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the period (default: 90 days ago)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the period (default: today)."),
    OpenApiParameter("unit", int, description="An org unit (with the units below it)."),
    OpenApiParameter("version", int, description="A process version."),
    OpenApiParameter("role", str, description="The role the step is assigned to."),
    OpenApiParameter("mode", str, enum=list(selectors.MODES), description="Durations waiting or after claim."),
]


def _filters(request: Request) -> tuple[Any, selectors.Filters]:
    user = authenticated_user(request)
    scope = monitor_scope(user)
    return scope, selectors.filters_from(request.query_params, scope)


class MonitorCardSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    started = serializers.IntegerField()
    finished = serializers.IntegerField(help_text="Completed in the period.")
    cancelled = serializers.IntegerField(help_text="Cancelled in the period (not counted as finished).")
    running = serializers.IntegerField(help_text="Running now, suspended and stopped by an error included.")
    suspended = serializers.IntegerField()
    in_error = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Running past the SOP deadline or with a step past due.")
    p50_days = serializers.FloatField(allow_null=True, help_text=f"End-to-end, working days. {SKETCHED}")
    p90_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p95_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    within_sop = serializers.FloatField(allow_null=True, help_text="Share of finished cases within the SOP deadline.")
    sop_days = serializers.IntegerField(allow_null=True)
    sop_working = serializers.BooleanField()


class MonitorStepSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    role = serializers.CharField()
    due = serializers.CharField()
    due_seconds = serializers.FloatField(
        allow_null=True, help_text=f"Median working seconds from creation to due. {SKETCHED}"
    )
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    completed = serializers.IntegerField()
    p50_hours = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p90_hours = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p95_hours = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p50_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p90_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    p95_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)
    on_time = serializers.FloatField(allow_null=True)
    repeated = serializers.IntegerField(help_text="Completions that were a return or a loop (the step ran before).")
    heat = serializers.ChoiceField(choices=["ok", "warn", "bad", "none"])


class MonitorHeatmapSerializer(serializers.Serializer):
    process = serializers.CharField()
    version = serializers.IntegerField()
    mode = serializers.CharField()
    steps = MonitorStepSerializer(many=True)


class MonitorWeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="Monday of the week.")
    started = serializers.IntegerField()
    finished = serializers.IntegerField()
    p90_days = serializers.FloatField(allow_null=True, help_text=SKETCHED)


class MonitorAtRiskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    instance = serializers.IntegerField(source="task.instance_id")
    case = serializers.CharField(source="task.instance.number", allow_null=True)
    process = serializers.CharField(source="task.process_key")
    task = serializers.CharField(source="task.spec_id")
    title = serializers.SerializerMethodField()
    holders = serializers.SerializerMethodField()
    substitutes = serializers.SerializerMethodField()
    claimed = serializers.BooleanField()
    overdue = serializers.BooleanField()
    since = serializers.DateTimeField(help_text="Past due since, or past half of its time since.")
    due_at = serializers.DateTimeField(source="task.due_at")
    reminded_at = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)

    def get_title(self, row: dict[str, Any]) -> str:
        return row["task"].title_in()

    def get_holders(self, row: dict[str, Any]) -> list[str]:
        return [u.username for u in row["holders"]]

    def get_substitutes(self, row: dict[str, Any]) -> list[str]:
        return [u.username for u in row["substitutes"]]


class MonitorAtRiskPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tasks matching, counted up to 1,000.")
    more_than_count = serializers.BooleanField(help_text="True when more than 1,000 tasks match.")
    has_next = serializers.BooleanField()
    next = serializers.IntegerField(allow_null=True, help_text="Pass as `after` for the next page.")
    results = MonitorAtRiskSerializer(many=True)


class MonitorWorkloadSerializer(serializers.Serializer):
    name = serializers.CharField()
    username = serializers.CharField(required=False)
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True, help_text="Median working hours of tasks finished.")


class MonitorIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="number", allow_null=True)
    process = serializers.CharField(source="process_key")
    status = serializers.CharField()
    incident = serializers.CharField()
    since = serializers.DateTimeField(source="updated_at")


class CardsApi(APIView):
    """One card per process for the period and unit."""

    @extend_schema(parameters=FILTERS, responses=MonitorCardSerializer(many=True))
    def get(self, request: Request) -> Response:
        _scope, filters = _filters(request)
        return Response(MonitorCardSerializer(selectors.process_cards(filters), many=True).data)


class HeatmapApi(APIView):
    """Per user task of the process: open and overdue now, completed, percentiles, share on time, repeats."""

    @extend_schema(parameters=FILTERS, responses=MonitorHeatmapSerializer)
    def get(self, request: Request, key: str) -> Response:
        _scope, filters = _filters(request)
        definition = selectors.definition_for(key, filters.version)
        steps = selectors.step_stats(definition, filters)
        body = {"process": key, "version": definition.version, "mode": filters.mode, "steps": steps}
        return Response(MonitorHeatmapSerializer(body).data)


class TrendApi(APIView):
    """Per week of the period: cases started, finished and the p90 end-to-end time."""

    @extend_schema(parameters=FILTERS, responses=MonitorWeekSerializer(many=True))
    def get(self, request: Request, key: str) -> Response:
        _scope, filters = _filters(request)
        selectors.definition_for(key)
        return Response(MonitorWeekSerializer(selectors.weekly_trend(key, filters), many=True).data)


class AtRiskApi(APIView):
    """Open tasks past due or past half their time, the most overdue first."""

    @extend_schema(
        parameters=[
            *FILTERS,
            OpenApiParameter("process", str),
            OpenApiParameter("overdue", bool, description="Only tasks past due."),
            OpenApiParameter("after", int, description="The last task of the previous page (its `next`)."),
            OpenApiParameter("page_size", int),
        ],
        responses=MonitorAtRiskPageSerializer,
    )
    def get(self, request: Request) -> Response:
        _scope, filters = _filters(request)
        params = request.query_params
        overdue = query_choice(params, "overdue", ["true", "false", "1", "0"], "false") in ("true", "1")
        size = query_int(params, "page_size", maximum=Pagination.max_page_size) or Pagination.page_size
        process_key = str(params.get("process") or "")
        # Pages follow the index of open tasks by due time from the last row shown (keyset), so a page costs
        # its rows however far down it is; the total is counted up to a cap.
        tasks = selectors.at_risk_tasks(
            filters, process_key=process_key, overdue_only=overdue, after=query_int(params, "after")
        )
        rows = list(tasks[: size + 1])
        everything = selectors.at_risk_tasks(filters, process_key=process_key, overdue_only=overdue)
        # Counted along the same (status, due_at) index as the page, so it stops after COUNT_CAP + 1 entries
        # (unordered, PostgreSQL may scan the table from its old, finished tasks).
        total = everything.values_list("pk", flat=True)[: selectors.COUNT_CAP + 1].count()
        body = {
            "count": min(total, selectors.COUNT_CAP),
            "more_than_count": total > selectors.COUNT_CAP,
            "has_next": len(rows) > size,
            "next": rows[size - 1].pk if len(rows) > size else None,
            "results": selectors.describe_tasks(rows[:size]),
        }
        return Response(MonitorAtRiskPageSerializer(body).data)


class WorkloadApi(APIView):
    """Per person or per unit: open, overdue, median working time."""

    @extend_schema(
        parameters=[*FILTERS, OpenApiParameter("by", str, enum=["person", "unit"])],
        responses=MonitorWorkloadSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        _scope, filters = _filters(request)
        by = query_choice(request.query_params, "by", ["person", "unit"], "person")
        return Response(MonitorWorkloadSerializer(selectors.workload(filters, by=by), many=True).data)


class IncidentsApi(APIView):
    """Cases stopped by an error or suspended (retry, resume and cancel are `/api/instances/<id>/…`)."""

    @extend_schema(parameters=FILTERS, responses=MonitorIncidentSerializer(many=True))
    def get(self, request: Request) -> Response:
        _scope, filters = _filters(request)
        return Response(MonitorIncidentSerializer(selectors.incidents(filters)[:500], many=True).data)


class MonitorRemindSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reminded = serializers.BooleanField()


class RemindApi(APIView):
    """Remind the holders of an open task now (recorded in the case's history)."""

    @extend_schema(request=None, responses=MonitorRemindSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.task_remind(task_id=pk, user=authenticated_user(request))
        return Response(MonitorRemindSerializer({"id": task.pk, "reminded": True}).data)


urlpatterns = [
    path("monitor/processes/", CardsApi.as_view(), name="monitor-processes"),
    path("monitor/processes/<str:key>/heatmap/", HeatmapApi.as_view(), name="monitor-heatmap"),
    path("monitor/processes/<str:key>/trend/", TrendApi.as_view(), name="monitor-trend"),
    path("monitor/at-risk/", AtRiskApi.as_view(), name="monitor-at-risk"),
    path("monitor/workload/", WorkloadApi.as_view(), name="monitor-workload"),
    path("monitor/incidents/", IncidentsApi.as_view(), name="monitor-incidents"),
    path("monitor/tasks/<int:pk>/remind/", RemindApi.as_view(), name="monitor-remind"),
]
