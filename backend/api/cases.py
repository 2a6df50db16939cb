"""Cases for auditors and everyone who took part: the list, one case with its path and integrity, evidence."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.cases import evidence, selectors
from backend.cases.casefile import case_file
from backend.cases.exports import cases_download
from backend.cases.models import CaseAccess
from backend.cases.services import case_access_record
from backend.core.http import authenticated_user
from backend.core.params import query_choice
from backend.workflow.models import ProcessInstance

FILTER_PARAMETERS = [
    OpenApiParameter("number", str, description="a whole case number (TR-2026-000123) or a part of one"),
    OpenApiParameter("person", str, description="a username, or words of a name: the requester or any participant"),
    OpenApiParameter("process", str, description="the process key"),
    OpenApiParameter("version", int, description="the process version"),
    OpenApiParameter("status", str, enum=ProcessInstance.Status.values),
    OpenApiParameter("started_from", OpenApiTypes.DATE),
    OpenApiParameter("started_to", OpenApiTypes.DATE),
    OpenApiParameter("unit", str, description="the code of a school or department (its departments included)"),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, enum=list(selectors.PAGE_SIZES)),
]


class CaseSerializer(serializers.Serializer):
    number = serializers.CharField()
    process = serializers.CharField(source="process_key")
    process_title = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="definition.version")
    subject = serializers.SerializerMethodField()
    requester = serializers.SerializerMethodField()
    status = serializers.CharField()
    stage = serializers.CharField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    history_events = serializers.IntegerField(source="history_count")

    def get_process_title(self, case: ProcessInstance) -> str:
        return case.definition.title_in()

    def get_subject(self, case: ProcessInstance) -> str:
        return case.subject_in()

    def get_requester(self, case: ProcessInstance) -> str:
        return case.started_by.full_name if case.started_by else ""


class CasePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="exact up to 10,000; when `more` is true there are more than that")
    more = serializers.BooleanField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = CaseSerializer(many=True)


class CaseListApi(APIView):
    """The cases the caller may see, searched and sorted; `export=csv|xlsx` downloads the whole list."""

    @extend_schema(
        operation_id="cases_list",
        parameters=[*FILTER_PARAMETERS, OpenApiParameter("export", str, enum=["csv", "xlsx"])],
        responses={200: CasePageSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        user = authenticated_user(request)
        filters = selectors.CaseFilters.from_query(request.query_params)
        export = query_choice(request.query_params, "export", ["", "csv", "xlsx"], "")
        if export:
            return cases_download(user=user, filters=filters, fmt=export)
        page = selectors.cases_page(user, filters)
        return Response(
            {
                "count": page.count,
                "more": page.more,
                "page": page.number,
                "pages": page.pages,
                "results": CaseSerializer(page.rows, many=True).data,
            }
        )


def _case_detail(case: Any) -> dict[str, Any]:
    file = case_file(case)
    return {
        **CaseSerializer(case).data,
        "integrity": {
            "intact": file.integrity.intact,
            "events": file.integrity.events,
            "broken_at": file.integrity.broken.seq if file.integrity.broken else None,
            "summary": file.integrity.summary,
            "documents_match": file.integrity.documents_ok,
        },
        "now_at": file.current,
        "path": file.marks,
        "decisions": [
            {"gateway": c.gateway_name, "branch": c.branch, "data": dict(c.data)} for c in file.gateway_choices
        ],
        "documents": [
            {
                "title": d.title,
                "number": d.number,
                "status": d.status,
                "verification_url": d.verification_url,
                "sha256": d.signed_sha256 or d.pdf_sha256,
                "file_matches": d.stored_match,
            }
            for d in file.documents
        ],
        "timeline": [
            {
                "seq": line.entry.seq,
                "kind": line.entry.kind,
                "at": line.entry.at,
                "actor": line.entry.actor,
                "acting_for": line.entry.acting_for,
                "text": line.entry.text,
                "details": [{"label": label, "value": value} for label, value in line.entry.details],
                "changes": [{"name": n, "old": o, "new": v} for n, o, v in line.changes],
            }
            for line in file.timeline
        ],
    }


class CaseDetailApi(APIView):
    """One case: the path it took, its decisions, documents, humanised timeline and the integrity check (now)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, number: str) -> Response:
        user = authenticated_user(request)
        case = selectors.case_visible(user, number)
        data = _case_detail(case)
        case_access_record(user=user, action=CaseAccess.Action.OPENED, instance=case)
        return Response(data)


class CaseEvidenceApi(APIView):
    """The case's evidence package: a ZIP whose manifest the university signs (check it with verify-evidence)."""

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, number: str) -> HttpResponse:
        user = authenticated_user(request)
        case = selectors.case_visible(user, number)
        response = HttpResponse(evidence.evidence_for(user=user, instance=case), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="evidence-{case.number}.zip"'
        response["Cache-Control"] = "private, no-store"
        return response


class EvidenceSetSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    total = serializers.IntegerField()


class CaseEvidenceSetApi(APIView):
    """Evidence packages of every case the filters find, made in the background (follow /api/jobs/<id>/)."""

    @extend_schema(parameters=FILTER_PARAMETERS, request=None, responses={202: EvidenceSetSerializer})
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        filters = selectors.CaseFilters.from_query(request.query_params)
        job = evidence.evidence_set_start(user=user, filters=filters)
        return Response({"job": job.pk, "total": job.total}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("cases/", CaseListApi.as_view(), name="cases"),
    path("cases/evidence/", CaseEvidenceSetApi.as_view(), name="case-evidence-set"),
    path("cases/<str:number>/", CaseDetailApi.as_view(), name="case"),
    path("cases/<str:number>/evidence/", CaseEvidenceApi.as_view(), name="case-evidence"),
]
