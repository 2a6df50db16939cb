"""Background work of the engine: firing timers, re-routing tasks after role changes."""

from celery import shared_task

from backend.core.retrying import retrying

from . import services


@shared_task(name="backend.workflow.tasks.fire_due_timers", time_limit=600, soft_time_limit=540, **retrying())
def fire_due_timers() -> int:
    return services.timers_fire_due()


@shared_task(name="backend.workflow.tasks.reroute_tasks", time_limit=600, soft_time_limit=540, **retrying())
def reroute_tasks(role: str | None = None) -> int:
    return services.tasks_reroute(role=role)


@shared_task(name="backend.workflow.tasks.checkpoint_history", time_limit=1800, soft_time_limit=1740)
def checkpoint_history() -> str:
    """The daily signed checkpoint of every history chain's head (see backend.workflow.checkpoints)."""
    from .checkpoints import checkpoint_create

    return str(checkpoint_create())
