from celery import shared_task

from . import jobs
from .retrying import retrying


@shared_task(name="backend.core.tasks.ping", time_limit=10, soft_time_limit=5)
def ping() -> str:
    """A health check: answers "pong" once a worker has taken it from the broker."""
    return "pong"


@shared_task(
    name="backend.core.tasks.run_job",
    **retrying(),
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
)
def run_job(job_id: int) -> None:
    """Do a background job's waiting items; a second delivery finds the done ones done and skips them."""
    # Celery's Django fixup closes unusable connections before each task, so a retry after a lost
    # connection starts with a fresh one.
    jobs.job_run(job_id=job_id)


@shared_task(name="backend.core.tasks.sweep_jobs", time_limit=120, soft_time_limit=100, **retrying())
def sweep_jobs() -> int:
    """Enqueue again the jobs whose worker died or whose message was lost."""
    return jobs.jobs_sweep()
