"""Pages of background jobs: the person who started one follows its progress and retries what failed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from backend.core import jobs
from backend.core.exceptions import ApplicationError, NotFound
from backend.core.http import authenticated_user
from backend.core.models import Job


def _job(request: HttpRequest, pk: int) -> Job:
    try:
        return jobs.job_visible(job_id=pk, user=authenticated_user(request))
    except NotFound:
        raise Http404 from None


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    mine = Job.objects.filter(owner=authenticated_user(request)).order_by("-created_at")
    page = Paginator(mine, 20).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "jobs/detail.html", {"job": job, "items": job.items.order_by("position")})


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the page that htmx reloads every two seconds while the job runs."""
    job = _job(request, pk)
    return render(request, "jobs/_progress.html", {"job": job, "items": job.items.order_by("position")})


@login_required
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        jobs.job_retry_failed(job_id=job.pk, user=authenticated_user(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("web:job", pk=job.pk)


urlpatterns = [
    path("jobs/", job_list, name="jobs"),
    path("jobs/<int:pk>/", job_detail, name="job"),
    path("jobs/<int:pk>/progress", job_progress, name="job-progress"),
    path("jobs/<int:pk>/retry/", job_retry, name="job-retry"),
]
