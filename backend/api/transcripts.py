"""REST endpoints of transcript issuance (the personal cabinet, the Registrar office's registry and batches).

A request starts through the generic `POST /api/processes/transcript_issuance/start/` (body: kind, periods,
reason, language, electronic, paper_copies); the staff's check is a task under /api/tasks/.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.academics.models import Student
from backend.core.exceptions import Forbidden, NotFound
from backend.core.exports import XLSX, table_download
from backend.core.http import authenticated_user, private_file
from backend.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from backend.core.params import query_choice, query_int
from backend.transcripts import selectors, services
from backend.transcripts.models import Batch, Notice, TranscriptKind, TranscriptRequest
from backend.transcripts.selectors import REGISTRY_YEARS
from backend.workflow.models import ProcessInstance
from backend.workflow.selectors import history_of

from .workflow import Pagination


def _request(user: Any, pk: int) -> TranscriptRequest:
    request = selectors.requests_for(user).filter(pk=pk).first()
    if request is None:
        raise NotFound(_("There is no such request."))
    return request


def _staff(user: Any) -> None:
    if not selectors.is_staff(user):
        raise Forbidden(_("This is for the Registrar office."))


class TranscriptRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id")
    student = serializers.CharField(source="student.full_name")
    group = serializers.CharField(source="student.group.name")
    kind = serializers.CharField(source="kind.code")
    kind_name = serializers.SerializerMethodField()
    periods = serializers.SerializerMethodField()
    reason = serializers.CharField()
    language = serializers.CharField()
    electronic = serializers.BooleanField()
    paper_copies = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    issue_due = serializers.DateTimeField()
    stage = serializers.ChoiceField(choices=ProcessInstance.Stage.choices, source="instance.stage")
    stage_display = serializers.CharField(source="instance.get_stage_display")
    number = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    verification_id = serializers.SerializerMethodField()

    def get_kind_name(self, request: TranscriptRequest) -> str:
        return request.kind.name_in(get_language())

    def get_periods(self, request: TranscriptRequest) -> list[str]:
        return [p.title(get_language()) for p in request.periods.all()]

    def get_verification_id(self, request: TranscriptRequest) -> str | None:
        publication = getattr(request.document, "publication", None) if request.document else None
        return publication.verification_id if publication else None


class StepSerializer(serializers.Serializer):
    kind = serializers.CharField()
    what = serializers.CharField()
    at = serializers.DateTimeField()
    task = serializers.CharField(allow_null=True, help_text="The task's element id, for task events.")


class PreviewRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    points = serializers.CharField()
    letter = serializers.CharField()
    grade_point = serializers.CharField()
    retake = serializers.BooleanField()


class PreviewPeriodSerializer(serializers.Serializer):
    title = serializers.CharField()
    credits = serializers.IntegerField()
    gpa = serializers.CharField()
    rows = PreviewRowSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    periods = PreviewPeriodSerializer(many=True)
    total_credits = serializers.IntegerField()
    gpa = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class TranscriptRequestDetailSerializer(TranscriptRequestSerializer):
    steps = StepSerializer(many=True)
    preview = PreviewSerializer(help_text="The transcript as computed from the records now.")


class KindSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class RegistryEntrySerializer(serializers.Serializer):
    number = serializers.CharField()
    issued_on = serializers.CharField(help_text="DD.MM.YYYY")
    student = serializers.CharField()
    student_id = serializers.CharField()
    kind = serializers.CharField()
    copies = serializers.CharField()
    issued_by = serializers.CharField()
    signed_by = serializers.CharField()
    received_by = serializers.CharField()
    received_on = serializers.CharField(help_text="DD.MM.YYYY, or empty")


class BatchErrorSerializer(serializers.Serializer):
    student = serializers.CharField(help_text="The student (name and ID).")
    error = serializers.CharField()


# A serializer's own `errors` attribute forbids a declared field of that name; the schema is built inline.
BatchSerializer = inline_serializer(
    name="Batch",
    fields={
        "id": serializers.IntegerField(),
        "group": serializers.CharField(),
        "status": serializers.CharField(),
        "total": serializers.IntegerField(),
        "done": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "percent": serializers.IntegerField(),
        "errors": BatchErrorSerializer(many=True),
        "job": serializers.IntegerField(allow_null=True, help_text="The background job: GET /api/jobs/<id>/."),
        "created_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
    },
)


class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    link = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NoticeReadSerializer(serializers.Serializer):
    read = serializers.BooleanField(help_text="False when it was read already.")


def preview(request: TranscriptRequest) -> dict[str, Any]:
    transcript = services.transcript_of(request)
    return {
        "periods": [
            {
                "title": p.period.title(get_language()),
                "credits": p.credits,
                "gpa": str(p.gpa),
                "rows": [
                    {
                        "code": r.code,
                        "name": r.name,
                        "credits": r.credits,
                        "points": str(r.points),
                        "letter": r.letter,
                        "grade_point": str(r.grade_point),
                        "retake": r.is_retake,
                    }
                    for r in p.rows
                ],
            }
            for p in transcript.periods
        ],
        "total_credits": transcript.total_credits,
        "gpa": str(transcript.gpa),
        "problems": transcript.problems,
    }


class KindListApi(APIView):
    @extend_schema(responses=KindSerializer(many=True))
    def get(self, request: Request) -> Response:
        kinds = TranscriptKind.objects.filter(is_active=True).order_by("pk")
        return Response([{"code": k.code, "name": k.name_in(get_language())} for k in kinds])


class PeriodListApi(APIView):
    """The periods the caller (or, for staff, ?student=) has final grades for."""

    schema_error_statuses = (404,)  # the caller is no student, or no such student

    @extend_schema(parameters=[OpenApiParameter("student", int)], responses=PeriodSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        student_id = query_int(request.query_params, "student")
        if student_id is not None:
            _staff(user)
            student = Student.objects.filter(pk=student_id).first()
        else:
            student = selectors.student_of(user)
        if student is None:
            raise NotFound(_("There is no such student."))
        return Response([{"id": p.pk, "title": p.title(get_language())} for p in selectors.periods_of(student)])


class RequestListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=TranscriptRequestSerializer(many=True))
    def get(self, request: Request) -> Response:
        requests = selectors.requests_for(authenticated_user(request)).order_by("-requested_at")
        paginator = Pagination()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(TranscriptRequestSerializer(page, many=True).data)


class RequestDetailApi(APIView):
    """A request with its steps and dates, and the transcript as computed from the records."""

    @extend_schema(responses=TranscriptRequestDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        transcript_request = _request(authenticated_user(request), pk)
        steps = [
            {"kind": e.kind, "what": e.get_kind_display(), "at": e.at, "task": e.payload.get("spec")}
            for e in history_of(transcript_request.instance)
            if e.kind in ("started", "completed", "signed", "finished", "cancelled", "task_created")
        ]
        return Response(
            {
                **TranscriptRequestSerializer(transcript_request).data,
                "steps": steps,
                "preview": preview(transcript_request),
            }
        )


class RequestPdfApi(APIView):
    """The issued, signed PDF: for its holder and the Registrar office."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        user = authenticated_user(request)
        transcript_request = _request(user, pk)
        publication = selectors.signed_pdf_for(transcript_request, user)
        if publication is None:
            raise NotFound(_("There is no issued transcript for this request."))
        return private_file(publication.signed_pdf, filename=f"transcript-{transcript_request.number}.pdf")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, default="withdrawn by the student")


class RequestCancelApi(APIView):
    @extend_schema(request=CancelSerializer, responses=TranscriptRequestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        given = CancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        cancelled = services.transcript_cancel(
            request=_request(user, pk), user=user, reason=given.validated_data["reason"]
        )
        return Response(TranscriptRequestSerializer(cancelled).data)


def registry_rows(entries: Any) -> list[list[str]]:
    rows = [
        [
            str(_("Number")),
            str(_("Date of issue")),
            str(_("Student")),
            str(_("Student ID")),
            str(_("Kind")),
            str(_("Copies")),
            str(_("Issued by")),
            str(_("Signed by")),
            str(_("Received by")),
            str(_("Received on")),
        ]
    ]
    for e in entries:
        copies = ", ".join(
            filter(
                None,
                [
                    str(_("electronic")) if e.electronic else "",
                    str(_("%(n)s on paper") % {"n": e.paper_copies}) if e.paper_copies else "",
                ],
            )
        )
        rows.append(
            [
                e.number,
                e.issued_on.strftime("%d.%m.%Y"),
                e.student_name,
                e.student_code,
                e.kind_name,
                copies,
                e.issued_by.full_name,
                e.signed_by.full_name,
                e.received_by,
                e.received_on.strftime("%d.%m.%Y") if e.received_on else "",
            ]
        )
    return rows


def registry_file(entries: Any, fmt: str) -> HttpResponse:
    name = f"transcript-registry-{timezone.localdate():%Y%m%d}"
    return table_download(registry_rows(entries), name=name, fmt=fmt)


class RegistryApi(APIView):
    """The transcript registry journal (JSON, CSV or XLSX)."""

    @extend_schema(
        parameters=[OpenApiParameter("year", int), OpenApiParameter("export", str, enum=["json", "csv", "xlsx"])],
        responses={
            (200, "application/json"): RegistryEntrySerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _staff(authenticated_user(request))
        year = query_int(request.query_params, "year", minimum=REGISTRY_YEARS[0], maximum=REGISTRY_YEARS[1])
        fmt = query_choice(request.query_params, "export", ("json", "csv", "xlsx"), "json")
        entries = selectors.registry(year=year)
        if fmt in ("csv", "xlsx"):
            return registry_file(entries, fmt)
        _header, *rows = registry_rows(entries)
        return Response(
            [
                dict(
                    zip(
                        [
                            "number",
                            "issued_on",
                            "student",
                            "student_id",
                            "kind",
                            "copies",
                            "issued_by",
                            "signed_by",
                            "received_by",
                            "received_on",
                        ],
                        row,
                        strict=True,
                    )
                )
                for row in rows
            ]
        )


class BatchInput(serializers.Serializer):
    group = serializers.IntegerField()
    kind = serializers.SlugField(default="standard")
    language = serializers.ChoiceField(choices=["kk", "ru", "en"])
    reason = serializers.CharField(max_length=500, required=False, default="")


def batch_data(batch: Batch) -> dict[str, Any]:
    batch.refresh_from_job()
    return {
        "id": batch.pk,
        "group": batch.group.name,
        "status": batch.status,
        "total": batch.total,
        "done": batch.done,
        "failed": batch.failed,
        "percent": batch.percent,
        "errors": batch.failures(),
        "job": batch.job_id,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }


class BatchListApi(APIView):
    """Transcripts for a whole group, generated in the background; poll the batch for its progress."""

    @extend_schema(request=BatchInput, responses={201: BatchSerializer}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        given = BatchInput(data=request.data)
        given.is_valid(raise_exception=True)
        batch = services.batch_create(
            group_id=given.validated_data["group"],
            kind=given.validated_data["kind"],
            language=given.validated_data["language"],
            reason=given.validated_data["reason"],
            user=user,
        )
        batch = Batch.objects.select_related("group", "job").get(pk=batch.pk)
        return Response(batch_data(batch), status=201)


class BatchDetailApi(APIView):
    @extend_schema(responses=BatchSerializer)
    def get(self, request: Request, pk: int) -> Response:
        _staff(authenticated_user(request))
        batch = Batch.objects.select_related("group", "job").filter(pk=pk).first()
        if batch is None:
            raise NotFound(_("There is no such batch."))
        return Response(batch_data(batch))


class NoticeListApi(APIView):
    @extend_schema(responses=NoticeSerializer(many=True))
    def get(self, request: Request) -> Response:
        notices = Notice.objects.filter(user=authenticated_user(request))[:50]
        return Response(
            [
                {
                    "id": n.pk,
                    "text": n.text_in(get_language()),
                    "link": n.link,
                    "created_at": n.created_at,
                    "read": n.read_at is not None,
                }
                for n in notices
            ]
        )


class NoticeReadApi(APIView):
    @extend_schema(request=None, responses=NoticeReadSerializer)
    def post(self, request: Request, pk: int) -> Response:
        updated = Notice.objects.filter(pk=pk, user=authenticated_user(request), read_at__isnull=True).update(
            read_at=timezone.now()
        )
        return Response({"read": bool(updated)})


urlpatterns = [
    path("transcripts/kinds/", KindListApi.as_view(), name="transcript-kinds"),
    path("transcripts/periods/", PeriodListApi.as_view(), name="transcript-periods"),
    path("transcripts/requests/", RequestListApi.as_view(), name="transcript-requests"),
    path("transcripts/requests/<int:pk>/", RequestDetailApi.as_view(), name="transcript-request"),
    path("transcripts/requests/<int:pk>/pdf/", RequestPdfApi.as_view(), name="transcript-pdf"),
    path("transcripts/requests/<int:pk>/cancel/", RequestCancelApi.as_view(), name="transcript-cancel"),
    path("transcripts/registry/", RegistryApi.as_view(), name="transcript-registry"),
    path("transcripts/batches/", BatchListApi.as_view(), name="transcript-batches"),
    path("transcripts/batches/<int:pk>/", BatchDetailApi.as_view(), name="transcript-batch"),
    path("transcripts/notices/", NoticeListApi.as_view(), name="transcript-notices"),
    path("transcripts/notices/<int:pk>/read/", NoticeReadApi.as_view(), name="transcript-notice-read"),
]
