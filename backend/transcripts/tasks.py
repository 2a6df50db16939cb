from celery import shared_task

from . import services


@shared_task(
    name="backend.transcripts.tasks.run_batch", time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60, acks_late=True
)
def run_batch(batch_id: int) -> int:
    """Transcripts for a whole group; safe to run again (issued students are skipped)."""
    return services.batch_run(batch_id=batch_id).done


@shared_task(name="backend.transcripts.tasks.notify_issued", time_limit=60, soft_time_limit=50, acks_late=True)
def notify_issued(request_id: int) -> None:
    """E-mail and cabinet notice that a transcript is ready (sent after the issuing transaction commits)."""
    services.transcript_notify(request_id=request_id)
