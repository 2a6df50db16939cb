from celery import shared_task


@shared_task(name="backend.core.tasks.ping", time_limit=10, soft_time_limit=5)
def ping() -> str:
    """A health check: answers "pong" once a worker has taken it from the broker."""
    return "pong"
