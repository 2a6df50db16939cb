"""REST endpoints of the journal reopen procedure.

A request starts through the generic `POST /api/processes/journal_reopen/start/` (body: journal, lesson_types,
wrong_entry_date, reason_category, reason); visas and reviews are tasks under /api/tasks/.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.academics.models import AcademicPeriod, Journal, JournalMark
from backend.core.exceptions import Forbidden, NotFound, ValidationFailed
from backend.core.exports import XLSX, table_download
from backend.core.http import authenticated_user
from backend.core.params import query_choice, query_int, query_text
from backend.documents.models import GeneratedDocument
from backend.reopen import selectors, services
from backend.reopen.models import ReopenRequest
from backend.workflow.models import ProcessInstance

from .workflow import Pagination


class JournalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    discipline = serializers.SerializerMethodField()
    group = serializers.CharField(source="group.name")
    lesson_type = serializers.CharField()
    lesson_type_display = serializers.CharField(source="get_lesson_type_display")
    period = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField()

    def get_discipline(self, journal: Journal) -> str:
        return f"{journal.discipline.code} {journal.discipline.name_in(get_language())}"

    def get_period(self, journal: Journal) -> str:
        return journal.period.title(get_language())


class ReopenRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id")
    stage = serializers.ChoiceField(choices=ProcessInstance.Stage.choices, source="instance.stage")
    stage_display = serializers.CharField(source="get_stage_display")
    teacher = serializers.CharField(source="teacher.full_name")
    department = serializers.CharField(source="department.name")
    discipline = serializers.SerializerMethodField()
    group = serializers.CharField(source="group.name")
    lesson_types = serializers.ListField(child=serializers.CharField())
    academic_year = serializers.CharField()
    wrong_entry_date = serializers.DateField()
    reason_category = serializers.CharField()
    reason = serializers.CharField()
    late = serializers.BooleanField()
    late_days = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    window_opened_at = serializers.DateTimeField(allow_null=True)
    window_closes_at = serializers.DateTimeField(allow_null=True)
    window_closed_at = serializers.DateTimeField(allow_null=True)
    window_expired = serializers.BooleanField()
    teacher_count = serializers.IntegerField(allow_null=True)
    department_count = serializers.IntegerField(allow_null=True)
    proposed_teacher_measure = serializers.CharField()
    proposed_department_measure = serializers.CharField()

    def get_discipline(self, request: ReopenRequest) -> str:
        return f"{request.discipline.code} {request.discipline.name_in(get_language())}"


class ReopenDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    number = serializers.CharField()
    status = serializers.CharField()
    pdf_sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class ChangeSerializer(serializers.Serializer):
    journal = serializers.IntegerField(source="journal_id")
    student = serializers.CharField(source="student.full_name")
    student_id = serializers.IntegerField()
    lesson_date = serializers.DateField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    changed_by = serializers.CharField(source="changed_by.username")
    changed_at = serializers.DateTimeField()


class ReopenRequestDetailSerializer(ReopenRequestSerializer):
    documents = ReopenDocumentSerializer(many=True)
    changes = ChangeSerializer(many=True)


class MarkSerializer(serializers.Serializer):
    journal = serializers.IntegerField()
    student = serializers.IntegerField()
    student_name = serializers.CharField()
    lesson_date = serializers.DateField()
    value = serializers.CharField()


class MarksSerializer(serializers.Serializer):
    window_open = serializers.BooleanField()
    window_closes_at = serializers.DateTimeField(allow_null=True)
    marks = MarkSerializer(many=True)


class ReportRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    late = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    period = serializers.CharField()
    total = serializers.IntegerField()
    by_department = ReportRowSerializer(many=True)
    by_teacher = ReportRowSerializer(many=True)
    by_reason = ReportRowSerializer(many=True)


def _visible(user: Any, pk: int) -> ReopenRequest:
    request = selectors.requests_for(user).filter(pk=pk).first()
    if request is None:
        raise NotFound(_("There is no such request."))
    return request


class JournalListApi(APIView):
    """The caller's closed journals, which they may ask to reopen."""

    @extend_schema(responses=JournalSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(JournalSerializer(selectors.journals_to_reopen(authenticated_user(request)), many=True).data)


class RequestListApi(APIView):
    """Reopen requests the caller may see (their own, their unit's, or all for the Registrar office)."""

    pagination_class = Pagination

    @extend_schema(responses=ReopenRequestSerializer(many=True), parameters=[OpenApiParameter("academic_year", str)])
    def get(self, request: Request) -> Response:
        requests = selectors.requests_for(authenticated_user(request))
        year = query_text(request.query_params, "academic_year", max_length=20)
        if year:
            requests = requests.filter(academic_year=year)
        paginator = Pagination()
        page = paginator.paginate_queryset(requests.order_by("-submitted_at"), request, view=self)
        return paginator.get_paginated_response(ReopenRequestSerializer(page, many=True).data)


class RequestDetailApi(APIView):
    @extend_schema(responses=ReopenRequestDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        reopen = _visible(authenticated_user(request), pk)
        documents = GeneratedDocument.objects.filter(instance=reopen.instance).order_by("created_at")
        return Response(
            {
                **ReopenRequestSerializer(reopen).data,
                "documents": ReopenDocumentSerializer(documents, many=True).data,
                "changes": ChangeSerializer(reopen.changes.select_related("student", "changed_by"), many=True).data,
            }
        )


class MarkInput(serializers.Serializer):
    journal = serializers.IntegerField()
    student = serializers.IntegerField()
    lesson_date = serializers.DateField()
    value = serializers.CharField(max_length=10)


class MarksApi(APIView):
    """The marks of the reopened journals; the teacher changes them while the window is open."""

    @extend_schema(responses=MarksSerializer)
    def get(self, request: Request, pk: int) -> Response:
        reopen = _visible(authenticated_user(request), pk)
        marks = JournalMark.objects.filter(journal__in=reopen.journals.all()).select_related("student")
        return Response(
            {
                "window_open": reopen.window_open,
                "window_closes_at": reopen.window_closes_at,
                "marks": [
                    {
                        "journal": m.journal_id,
                        "student": m.student_id,
                        "student_name": m.student.full_name,
                        "lesson_date": m.lesson_date,
                        "value": m.value,
                    }
                    for m in marks.order_by("journal_id", "student__last_name", "lesson_date")
                ],
            }
        )

    @extend_schema(request=MarkInput, responses={201: ChangeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        reopen = _visible(user, pk)
        given = MarkInput(data=request.data)
        given.is_valid(raise_exception=True)
        change = services.journal_mark_change(
            request=reopen,
            journal_id=given.validated_data["journal"],
            student_id=given.validated_data["student"],
            lesson_date=given.validated_data["lesson_date"],
            value=given.validated_data["value"],
            user=user,
        )
        return Response(ChangeSerializer(change).data, status=201)


def report_rows(report: selectors.SemesterReport) -> list[list[str]]:
    rows = [[_("Section"), _("Name"), _("Reopens"), _("Of them late")]]
    for section, items in (
        (_("Department"), report.by_department),
        (_("Teacher"), report.by_teacher),
        (_("Reason"), report.by_reason),
    ):
        rows += [[str(section), row.label, str(row.count), str(row.late)] for row in items]
    rows.append([str(_("Total")), "", str(report.total), ""])
    return rows


def report_file(report: selectors.SemesterReport, fmt: str) -> HttpResponse:
    name = f"reopens-{report.period.academic_year}-{report.period.term}"
    return table_download(report_rows(report), name=name, fmt=fmt, sheet_title=str(_("Reopens")))


def report_allowed(user: Any) -> None:
    from backend.accounts.selectors import user_has_role

    if not (user.is_superuser or user_has_role(user, *selectors.OVERSEERS)):
        raise Forbidden(_("The semester report is for the Registrar office, the vice-rector and auditors."))


class ReportApi(APIView):
    """The semester report to the vice-rector: reopens per department, teacher and reason (JSON, CSV or XLSX)."""

    schema_error_statuses = (404,)  # no such period

    @extend_schema(
        parameters=[
            OpenApiParameter("period", int, required=True),
            OpenApiParameter("export", str, enum=["json", "csv", "xlsx"]),
        ],
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        report_allowed(authenticated_user(request))
        period_id = query_int(request.query_params, "period")
        fmt = query_choice(request.query_params, "export", ("json", "csv", "xlsx"), "json")
        if period_id is None:
            raise ValidationFailed(
                _("Please correct the marked fields."), fields={"period": [_("This field is required.")]}
            )
        period = get_object_or_404(AcademicPeriod, pk=period_id)
        report = selectors.semester_report(period)
        if fmt in ("csv", "xlsx"):
            return report_file(report, fmt)

        def as_rows(items: list[selectors.ReportRow]) -> list[dict[str, Any]]:
            return [{"name": r.label, "count": r.count, "late": r.late} for r in items]

        return Response(
            {
                "period": period.title(get_language()),
                "total": report.total,
                "by_department": as_rows(report.by_department),
                "by_teacher": as_rows(report.by_teacher),
                "by_reason": as_rows(report.by_reason),
            }
        )


urlpatterns = [
    path("reopen/journals/", JournalListApi.as_view(), name="reopen-journals"),
    path("reopen/requests/", RequestListApi.as_view(), name="reopen-requests"),
    path("reopen/requests/<int:pk>/", RequestDetailApi.as_view(), name="reopen-request"),
    path("reopen/requests/<int:pk>/marks/", MarksApi.as_view(), name="reopen-marks"),
    path("reopen/reports/", ReportApi.as_view(), name="reopen-report"),
]
