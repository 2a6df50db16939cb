from celery import shared_task

from . import jobs


@shared_task(name="backend.core.tasks.ping", time_limit=10, soft_time_limit=5)
def ping() -> str:
    """A health check: answers "pong" once a worker has taken it from the broker."""
    return "pong"


@shared_task(
    name="backend.core.tasks.run_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=jobs.TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
)
def run_job(job_id: int) -> None:
    """Do a background job's waiting items; a second delivery finds the done ones done and skips them."""
    # Celery's Django fixup closes unusable connections before each task, so a retry after a lost
    # connection starts with a fresh one.
    jobs.job_run(job_id=job_id)


@shared_task(name="backend.core.tasks.sweep_jobs", time_limit=120, soft_time_limit=100)
def sweep_jobs() -> int:
    """Enqueue again the jobs whose worker died or whose message was lost."""
    return jobs.jobs_sweep()
