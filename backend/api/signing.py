"""REST endpoints of signing with a key only its holder unlocks: the passphrase, a signature task, a batch."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.jobs import JobSerializer
from backend.api.workflow import TaskSerializer
from backend.core.http import authenticated_user
from backend.signatures import batch, keyring, task_signing


def _valid(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)  # the one error shape, by the project's exception handler
    return dict(serializer.validated_data)


class PassphraseSerializer(serializers.Serializer):
    current_passphrase = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)
    new_passphrase = serializers.CharField(write_only=True)


class PassphraseStateSerializer(serializers.Serializer):
    is_set = serializers.BooleanField()
    changed_at = serializers.DateTimeField(allow_null=True)
    locked_until = serializers.DateTimeField(allow_null=True)


def _state(user: object) -> dict:
    record = keyring.passphrase_status(user)  # type: ignore[arg-type]
    return {
        "is_set": record is not None,
        "changed_at": record.changed_at if record else None,
        "locked_until": record.locked_until if record else None,
    }


class PassphraseApi(APIView):
    """The caller's own signing passphrase: its state; setting it, or changing it with the current one."""

    @extend_schema(responses=PassphraseStateSerializer)
    def get(self, request: Request) -> Response:
        return Response(PassphraseStateSerializer(_state(authenticated_user(request))).data)

    @extend_schema(request=PassphraseSerializer, responses=PassphraseStateSerializer)
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        data = _valid(PassphraseSerializer(data=request.data))
        keyring.passphrase_set(
            user=user, new_passphrase=data["new_passphrase"], current_passphrase=data["current_passphrase"]
        )
        return Response(PassphraseStateSerializer(_state(user)).data)


class ResetSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True)
    new_passphrase = serializers.CharField(write_only=True)


class PassphraseResetApi(APIView):
    """A forgotten passphrase: the caller's keys are revoked and a new certificate is issued under the new one."""

    @extend_schema(request=ResetSerializer, responses=PassphraseStateSerializer)
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        data = _valid(ResetSerializer(data=request.data))
        keyring.passphrase_reset(user=user, account_password=data["password"], new_passphrase=data["new_passphrase"])
        return Response(PassphraseStateSerializer(_state(user)).data)


class TaskSignSerializer(serializers.Serializer):
    passphrase = serializers.CharField(write_only=True, allow_blank=True)
    form = serializers.DictField(required=False, default=dict, help_text="The task form's data.")


class TaskSignApi(APIView):
    """Sign a signature task's documents with the caller's key (opened by the passphrase) and complete it."""

    @extend_schema(request=TaskSignSerializer, responses=TaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        given = _valid(TaskSignSerializer(data=request.data))
        task = task_signing.task_sign(
            task_id=pk, user=authenticated_user(request), passphrase=given["passphrase"], data=given["form"]
        )
        return Response(TaskSerializer(task).data)


class BatchSignSerializer(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=batch.MAX_BATCH)
    passphrase = serializers.CharField(write_only=True, allow_blank=True)


class BatchSignApi(APIView):
    """Sign many waiting signature tasks with one passphrase entry: a job, one signature and event per task."""

    @extend_schema(request=BatchSignSerializer, responses={202: JobSerializer})
    def post(self, request: Request) -> Response:
        given = _valid(BatchSignSerializer(data=request.data))
        job = batch.batch_sign_start(
            user=authenticated_user(request), task_ids=given["tasks"], passphrase=given["passphrase"]
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("signing/passphrase/", PassphraseApi.as_view(), name="signing-passphrase"),
    path("signing/passphrase/reset/", PassphraseResetApi.as_view(), name="signing-passphrase-reset"),
    path("signing/batches/", BatchSignApi.as_view(), name="signing-batches"),
    path("tasks/<int:pk>/sign/", TaskSignApi.as_view(), name="task-sign"),
]
