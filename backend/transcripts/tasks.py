from celery import shared_task

from backend.core.retrying import TRANSIENT_MAIL, retrying

from . import services


@shared_task(name="backend.transcripts.tasks.run_batch", time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def run_batch(batch_id: int) -> int:
    """Kept for messages enqueued before batches became jobs: runs the batch's job (see backend.core.jobs)."""
    return services.batch_run(batch_id=batch_id).done


@shared_task(
    name="backend.transcripts.tasks.notify_issued",
    time_limit=60,
    soft_time_limit=50,
    **retrying(*TRANSIENT_MAIL, max_retries=6, backoff=30),
)
def notify_issued(request_id: int) -> None:
    """E-mail and cabinet notice that a transcript is ready (sent after the issuing transaction commits; once)."""
    services.transcript_notify(request_id=request_id)
