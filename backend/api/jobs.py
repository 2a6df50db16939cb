"""Background jobs: their progress, item by item, and a retry of the failed items."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core import jobs
from backend.core.http import authenticated_user
from backend.core.models import Job, JobItem


class JobItemSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="label_in", read_only=True, help_text="The item in the caller's language.")

    class Meta:
        model = JobItem
        fields = ["key", "name", "status", "message", "result", "finished_at"]


class JobSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="title_in", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    items = JobItemSerializer(many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "total",
            "done",
            "failed",
            "percent",
            "created_at",
            "started_at",
            "finished_at",
            "items",
        ]


class JobDetailApi(APIView):
    """A background job the caller started (or may follow), with every item's outcome."""

    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, pk: int) -> Response:
        job = jobs.job_visible(job_id=pk, user=authenticated_user(request))
        job = Job.objects.prefetch_related("items").get(pk=job.pk)
        return Response(JobSerializer(job).data)


class JobRetryApi(APIView):
    """Queue the failed items of a finished job again."""

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        job = jobs.job_retry_failed(job_id=pk, user=authenticated_user(request))
        job = Job.objects.prefetch_related("items").get(pk=job.pk)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("jobs/<int:pk>/", JobDetailApi.as_view(), name="job"),
    path("jobs/<int:pk>/retry/", JobRetryApi.as_view(), name="job-retry"),
]
