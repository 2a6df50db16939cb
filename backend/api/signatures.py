"""REST endpoints for checking documents, signers' certificates and signatures made on the signer's computer."""

from __future__ import annotations

import base64
from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.roles import Role
from backend.accounts.selectors import user_has_role
from backend.api.throttling import AddressThrottle
from backend.core.exceptions import Forbidden, NotFound, ValidationFailed
from backend.core.http import authenticated_user
from backend.documents.models import GeneratedDocument
from backend.signatures import selectors, services, task_signing
from backend.signatures.models import PublishedDocument, SignerCertificate
from backend.workflow.selectors import instances_for

OPERATORS = (Role.REGISTRAR_HEAD, Role.ADMINISTRATOR)


class SignerSerializer(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.CharField()
    signed_at = serializers.DateTimeField()
    kind = serializers.CharField()
    revoked = serializers.BooleanField()
    certificate = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    status = serializers.CharField()
    document = serializers.CharField(source="published.document.kind_title")
    number = serializers.CharField(source="published.document.number")
    issued_at = serializers.DateTimeField(source="published.issued_at")
    holder = serializers.CharField(source="published.holder_public_name")
    sha256 = serializers.CharField(source="published.signed_sha256")
    signers = SignerSerializer(many=True)


def _published(verification_id: str) -> PublishedDocument:
    published = selectors.published_by_id(verification_id)
    if published is None:
        raise NotFound(_("There is no such document."))
    return published


class VerifyApi(APIView):
    """What the public verification page shows, for machines (no login; rate limited)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AddressThrottle]
    throttle_scope = "verification"

    @extend_schema(responses=VerificationSerializer, auth=[])
    def get(self, request: Request, verification_id: str) -> Response:
        return Response(VerificationSerializer(selectors.verification(_published(verification_id))).data)


class UploadCheckSerializer(serializers.Serializer):
    file = serializers.FileField()


class UploadVerdictSerializer(serializers.Serializer):
    genuine = serializers.BooleanField(help_text="Exactly the issued file, validly signed, not annulled.")
    exact = serializers.BooleanField()
    signatures_valid = serializers.BooleanField()
    status = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class CmsSignatureSerializer(serializers.Serializer):
    signature = serializers.IntegerField()
    certificate = serializers.CharField(help_text="The signer certificate's fingerprint.")
    signed_at = serializers.DateTimeField()
    task_completed = serializers.BooleanField(help_text="This signature completed the signer's signature task.")


class VerifyUploadApi(APIView):
    """Is this PDF exactly the issued document, and still validly signed?"""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AddressThrottle]
    throttle_scope = "verification"
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": UploadCheckSerializer}, responses=UploadVerdictSerializer, auth=[])
    def post(self, request: Request, verification_id: str) -> Response:
        published = _published(verification_id)
        given = UploadCheckSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data["file"].read(20 * 1024 * 1024 + 1)
        if len(data) > 20 * 1024 * 1024 or not data.startswith(b"%PDF"):
            raise ValidationFailed(
                _("Send a PDF of at most 20 MB."), fields={"file": [_("Not a PDF of at most 20 MB.")]}
            )
        check = selectors.check_upload(published, data)
        return Response(
            {
                "genuine": check.genuine,
                "exact": check.exact,
                "signatures_valid": check.signatures_valid,
                "status": check.status,
                "problems": list(check.problems),
            }
        )


class CertificateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    origin = serializers.CharField(source="source")
    subject = serializers.CharField()
    issuer = serializers.CharField()
    iin = serializers.CharField()
    fingerprint = serializers.CharField()
    not_before = serializers.DateTimeField()
    not_after = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    server_can_sign = serializers.SerializerMethodField()

    def get_server_can_sign(self, certificate: SignerCertificate) -> bool:
        return bool(certificate.encrypted_key_pem)


class CertificateListApi(APIView):
    """The caller's signing certificates (the registrar head and administrators see everyone's)."""

    @extend_schema(responses=CertificateSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        certificates = SignerCertificate.objects.all()
        if not (user.is_superuser or user_has_role(user, *OPERATORS)):
            certificates = certificates.filter(user=user)
        return Response(CertificateSerializer(certificates.order_by("-not_after"), many=True).data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


def _operator(user: Any) -> None:
    if not (user.is_superuser or user_has_role(user, *OPERATORS)):
        raise Forbidden(_("Only the head of the Registrar office or an administrator may do this."))


class CertificateRevokeApi(APIView):
    @extend_schema(request=ReasonSerializer, responses=CertificateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        _operator(user)
        certificate = SignerCertificate.objects.filter(pk=pk).first()
        if certificate is None:
            raise NotFound(_("There is no such certificate."))
        given = ReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        revoked = services.signer_certificate_revoke(
            certificate=certificate, reason=given.validated_data["reason"], by=user
        )
        return Response(CertificateSerializer(revoked).data)


class AnnulApi(APIView):
    """Annul a published document: its verification page says "annulled" from then on."""

    @extend_schema(request=ReasonSerializer, responses=VerificationSerializer)
    def post(self, request: Request, verification_id: str) -> Response:
        user = authenticated_user(request)
        _operator(user)
        given = ReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        published = services.document_annul(
            published=_published(verification_id), reason=given.validated_data["reason"], by=user
        )
        return Response(VerificationSerializer(selectors.verification(published)).data)


class CmsInput(serializers.Serializer):
    cms = serializers.CharField(
        help_text="Base64 CMS as NCALayer returns it: detached, over the document's PDF, or over the bytes "
        "`cms-signature/prepare/` gave (then with its `token`)."
    )
    token = serializers.CharField(
        required=False, allow_blank=True, help_text="From `cms-signature/prepare/`: the signature goes into the PDF."
    )


def _visible_document(request: Request, pk: int) -> tuple[Any, GeneratedDocument]:
    user = authenticated_user(request)
    document = GeneratedDocument.objects.filter(pk=pk, status=GeneratedDocument.Status.READY).first()
    if (
        document is None
        or document.instance_id is None
        or not instances_for(user).filter(pk=document.instance_id).exists()
    ):
        raise NotFound(_("There is no such document."))
    return user, document


class PreparedSerializer(serializers.Serializer):
    token = serializers.CharField()
    content = serializers.CharField(help_text="Base64 of the exact bytes NCALayer signs (decode: true).")


class CmsPrepareApi(APIView):
    """For the holder of the document's signature task: the stamp placed, and the bytes NCALayer is to sign."""

    @extend_schema(request=None, responses={200: PreparedSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user, document = _visible_document(request, pk)
        token, data = task_signing.task_document_prepare(document=document, user=user)
        return Response({"token": token, "content": base64.b64encode(data).decode("ascii")})


class CmsSignatureApi(APIView):
    """Record a signature made on the signer's own computer (NCALayer) over a document they can see.

    With the `token` of `prepare/` the CMS goes into the PDF as the holder's signature of their signature task,
    which completes once all its documents are signed; without it the CMS is kept beside the document.
    """

    @extend_schema(request=CmsInput, responses={201: CmsSignatureSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user, document = _visible_document(request, pk)
        given = CmsInput(data=request.data)
        given.is_valid(raise_exception=True)
        cms, token = given.validated_data["cms"], given.validated_data.get("token", "")
        completed = None
        if token:
            signature, completed = task_signing.task_document_sign_cms(
                document=document, user=user, token=token, cms=cms
            )
        else:
            signature = services.cms_signature_accept(document=document, signer=user, cms=cms)
        return Response(
            {
                "signature": signature.pk,
                "certificate": signature.certificate_fingerprint,
                "signed_at": signature.signed_at,
                "task_completed": completed is not None,
            },
            status=201,
        )


urlpatterns = [
    path("verify/<str:verification_id>/", VerifyApi.as_view(), name="verify"),
    path("verify/<str:verification_id>/check/", VerifyUploadApi.as_view(), name="verify-check"),
    path("verify/<str:verification_id>/annul/", AnnulApi.as_view(), name="verify-annul"),
    path("signatures/certificates/", CertificateListApi.as_view(), name="certificates"),
    path("signatures/certificates/<int:pk>/revoke/", CertificateRevokeApi.as_view(), name="certificate-revoke"),
    path("documents/<int:pk>/cms-signature/", CmsSignatureApi.as_view(), name="document-cms-signature"),
    path("documents/<int:pk>/cms-signature/prepare/", CmsPrepareApi.as_view(), name="document-cms-prepare"),
]
