"""Bulk approval benchmark: the answer to approving 100 transcripts at once, and the job that issues them.

    .venv/bin/python bench/bulk.py [--runs 3] [--tasks 100]

Uses DATABASE_URL when set (a `<name>_bulk` database is created and dropped), otherwise SQLite. Each run
starts `--tasks` transcript requests, POSTs them to /api/inbox/bulk-complete/ (timed: what the registrar waits
for), then runs the queued jobs in this process as a worker would: the approvals, then the issuing (timed).
Prints medians; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from database import bench_database, converter_running, setup_django


def one_run(tasks: int) -> tuple[float, float, int]:
    from rest_framework.test import APIClient

    from backend.accounts.models import User
    from backend.accounts.services import api_token_issue
    from backend.core.jobs import job_run
    from backend.core.models import Job
    from backend.transcripts.models import TranscriptRequest
    from backend.workflow import services as workflow
    from backend.workflow.models import HumanTask

    students = list(User.objects.filter(username__startswith="student").order_by("pk")[: (tasks + 1) // 2])
    instances = []
    for n in range(tasks):
        instances.append(
            workflow.instance_start(
                process_key="transcript_issuance",
                user=students[n // 2],
                data={"reason": "benchmark", "language": "ru"},
            ).pk
        )
    reviews = list(
        HumanTask.objects.filter(instance_id__in=instances, spec_id="review", status="open").values_list(
            "pk", flat=True
        )
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_issue(user=User.objects.get(username='registrar_staff1'))}"
    )
    began = time.perf_counter()
    response = client.post(
        "/api/inbox/bulk-complete/",
        {"tasks": reviews, "data": {"decision": "approve", "problems_acknowledged": True}},
        format="json",
    )
    answered = time.perf_counter() - began
    assert response.status_code == 202, response.content
    began = time.perf_counter()
    job_run(job_id=response.json()["id"])
    for job_id in Job.objects.filter(kind="transcripts.issue", status="queued").values_list("pk", flat=True):
        job_run(job_id=job_id)
    issued_in = time.perf_counter() - began
    issued = TranscriptRequest.objects.filter(instance_id__in=instances, issued_at__isnull=False).count()
    return answered, issued_in, issued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    with bench_database("bulk") as database:
        setup_django()
        with converter_running():
            print(
                f"Qujat bulk approval benchmark — {platform.machine()}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}, database: {database}"
            )
            results = []
            for _ in range(args.runs):
                results.append(one_run(args.tasks))
                from backend.transcripts.models import TranscriptRequest
                from backend.workflow.models import ProcessInstance

                # Finished requests free the students' three-requests limit for the next run.
                ProcessInstance.objects.filter(status="running").update(status="completed")
                TranscriptRequest.objects.filter(issued_at__isnull=True).update(issued_at="2026-01-01T00:00:00Z")
            answers = [answered for answered, _issued_in, _n in results]
            jobs = [issued_in for _answered, issued_in, _n in results]
            print(
                f"POST /api/inbox/bulk-complete/ with {args.tasks} transcript reviews ({args.runs} runs): "
                f"answer in median {statistics.median(answers) * 1000:.0f} ms (max {max(answers) * 1000:.0f} ms)"
            )
            print(
                f"the jobs: {args.tasks} approvals, then {args.tasks} numbered, generated and signed transcripts "
                f"in median {statistics.median(jobs):.1f} s ({statistics.median(jobs) / args.tasks:.2f} s each); "
                f"issued per run: {[n for _a, _j, n in results]}"
            )


if __name__ == "__main__":
    main()
