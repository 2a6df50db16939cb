"""REST endpoints of login requests.

A request starts through the generic `POST /api/processes/login_request/start/`:
- new teachers (a head of department): `{"kind": "teachers", "department": "dept-anatomy", "teachers": [{"position",
  "last_name", "first_name", "patronymic", "email", "start_date", "iin"?, "journals"?: [ids], "language"?}]}`;
- a student group (the dean's office): `{"kind": "students", "group": <id>}`;
- a deactivation (a head of department): `{"kind": "offboarding", "account": "<username>", "reason": "…"}`.
Signing, approving, deciding on existing accounts and creating them are tasks under /api/tasks/. The
activation endpoints are public: the one-time token is the credential.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from backend.access import activation, selectors
from backend.access.models import AccessEntry, AccessRequest, BatchProgress
from backend.core.exceptions import ValidationFailed
from backend.core.http import authenticated_user
from backend.core.ratelimit import client_address
from backend.documents.models import GeneratedDocument
from backend.signatures.models import Signature
from backend.workflow.models import ProcessInstance

from .workflow import Pagination


class ActivationThrottle(SimpleRateThrottle):
    """Activation attempts per client address (a token is unguessable; this keeps the page cheap to serve)."""

    scope = "access_activation"
    rate = "20/min"

    def get_rate(self) -> str:
        return self.rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class BatchProgressSerializer(serializers.Serializer):
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    percent = serializers.IntegerField()
    error = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class AccessRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id")
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    stage = serializers.ChoiceField(choices=ProcessInstance.Stage.choices, source="instance.stage")
    stage_display = serializers.CharField(source="get_stage_display")
    subject = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_by_name = serializers.CharField(source="requested_by.full_name")
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    school = serializers.CharField(source="school.code", default=None, allow_null=True)
    group = serializers.CharField(source="group.name", default=None, allow_null=True)
    language = serializers.CharField()
    memo_number = serializers.CharField(source="memo.number", default=None, allow_null=True)
    memo_signed_at = serializers.DateTimeField(allow_null=True)
    signing_problem = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)
    refusal_reason = serializers.CharField()
    provisioned_at = serializers.DateTimeField(allow_null=True)
    links_expire_at = serializers.DateTimeField(allow_null=True)
    reminded_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    submitted_at = serializers.DateTimeField()

    def get_subject(self, request: AccessRequest) -> str:
        return request.instance.subject_in()


class AccessEntrySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    full_name = serializers.CharField()
    position = serializers.CharField()
    email = serializers.EmailField()
    start_date = serializers.DateField(allow_null=True)
    student = serializers.CharField(source="student.student_id", default=None, allow_null=True)
    account = serializers.CharField(source="account.username", default=None, allow_null=True)
    account_created = serializers.BooleanField()
    match = serializers.CharField(source="match.username", default=None, allow_null=True)
    match_name = serializers.CharField(source="match.full_name", default=None, allow_null=True)
    matched_by = serializers.SerializerMethodField()
    journals = serializers.SerializerMethodField()
    note = serializers.CharField()
    activated_at = serializers.DateTimeField(allow_null=True)

    def get_matched_by(self, entry: AccessEntry) -> list[str]:
        return [m for m in entry.matched_by.split(",") if m]

    def get_journals(self, entry: AccessEntry) -> list[int]:
        return [j.pk for j in entry.journals.all()]


class AccessDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    number = serializers.CharField()
    language = serializers.CharField()
    status = serializers.CharField()
    signatures = serializers.SerializerMethodField()

    def get_signatures(self, document: GeneratedDocument) -> list[dict[str, Any]]:
        return [
            {"signer": s.signer.username, "signed_at": s.signed_at, "certificate": s.certificate_fingerprint}
            for s in Signature.objects.filter(document=document).select_related("signer").order_by("signed_at")
        ]


class AccessAccountSerializer(serializers.Serializer):
    username = serializers.CharField(source="account.username")
    full_name = serializers.CharField(source="account.full_name")
    email = serializers.CharField(source="account.email")
    is_active = serializers.BooleanField(source="account.is_active")
    created = serializers.BooleanField(source="account_created")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    activated_at = serializers.DateTimeField(allow_null=True)
    request = serializers.IntegerField(source="request_id")
    kind = serializers.CharField(source="request.kind")
    unit = serializers.SerializerMethodField()

    def get_unit(self, entry: AccessEntry) -> str:
        request = entry.request
        return request.group.name if request.group else (request.department.name if request.department else "")


class AccessRequestDetailSerializer(AccessRequestSerializer):
    entries = AccessEntrySerializer(many=True)
    documents = AccessDocumentSerializer(many=True)
    progress = BatchProgressSerializer(allow_null=True)


class RequestListApi(APIView):
    """Login requests the caller may see, newest first, with where each stands."""

    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=AccessRequest.Kind.values),
        ],
        responses=AccessRequestSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        requests = selectors.requests_for(authenticated_user(request))
        if request.query_params.get("kind"):
            requests = requests.filter(kind=request.query_params["kind"])
        paginator = Pagination()
        page = paginator.paginate_queryset(requests.order_by("-submitted_at", "-pk"), request, view=self)
        return paginator.get_paginated_response(AccessRequestSerializer(page, many=True).data)


class RequestDetailApi(APIView):
    """One request: its people (with existing accounts found), documents and signatures, and progress."""

    @extend_schema(responses=AccessRequestDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        access = selectors.request_visible(authenticated_user(request), pk)
        documents = GeneratedDocument.objects.filter(instance=access.instance).order_by("created_at")
        progress = selectors.progress_of(access)
        return Response(
            {
                **AccessRequestSerializer(access).data,
                "entries": AccessEntrySerializer(selectors.entries_of(access), many=True).data,
                "documents": AccessDocumentSerializer(documents, many=True).data,
                "progress": BatchProgressSerializer(progress).data if progress else None,
            }
        )


class ProgressApi(APIView):
    """How far the background creation of a group's accounts has got."""

    @extend_schema(responses=BatchProgressSerializer)
    def get(self, request: Request, pk: int) -> Response:
        access = selectors.request_visible(authenticated_user(request), pk)
        progress = selectors.progress_of(access) or BatchProgress(request=access)
        return Response(BatchProgressSerializer(progress).data)


class AccountListApi(APIView):
    """Accounts created or reused by login requests (IT and auditors)."""

    pagination_class = Pagination

    @extend_schema(responses=AccessAccountSerializer(many=True))
    def get(self, request: Request) -> Response:
        entries = selectors.accounts_for(authenticated_user(request))
        paginator = Pagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(AccessAccountSerializer(page, many=True).data)


class ActivationStateSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    language = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ActivationInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    password_again = serializers.CharField(
        max_length=128, trim_whitespace=False, required=False, style={"input_type": "password"}
    )


class ActivationOutputSerializer(serializers.Serializer):
    username = serializers.CharField()


class ActivationStateApi(APIView):
    """Whether an activation link can be used, and for which login (public: the token is the credential)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ActivationThrottle]
    schema_error_statuses = (410,)

    @extend_schema(responses=ActivationStateSerializer, auth=[])
    def get(self, request: Request, token: str) -> Response:
        found = activation.token_check(token)
        user = found.user
        return Response(
            {
                "username": user.username,
                "full_name": user.full_name,
                "language": user.language,
                "expires_at": found.expires_at,
            }
        )


class ActivationApi(APIView):
    """Set one's own password through the one-time link; the link is spent (Django's password rules apply)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ActivationThrottle]
    schema_error_statuses = (410,)

    @extend_schema(request=ActivationInputSerializer, responses=ActivationOutputSerializer, auth=[])
    def post(self, request: Request) -> Response:
        given = ActivationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        if not values["password"]:
            raise ValidationFailed(_("Please correct the marked fields."), fields={"password": [_("Required.")]})
        user = activation.account_activate(
            raw_token=values["token"], password=values["password"], password_again=values.get("password_again")
        )
        return Response({"username": user.username}, status=status.HTTP_200_OK)


urlpatterns = [
    path("access/requests/", RequestListApi.as_view(), name="access-requests"),
    path("access/requests/<int:pk>/", RequestDetailApi.as_view(), name="access-request"),
    path("access/requests/<int:pk>/progress/", ProgressApi.as_view(), name="access-progress"),
    path("access/accounts/", AccountListApi.as_view(), name="access-accounts"),
    path("access/activation/", ActivationApi.as_view(), name="access-activation"),
    path("access/activation/<str:token>/", ActivationStateApi.as_view(), name="access-activation-state"),
]
