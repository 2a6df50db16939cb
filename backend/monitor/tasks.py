"""Beat's work for the monitor: keep the rollups current; the daily alert."""

from celery import shared_task

from .facts import facts_refresh
from .services import alerts_send


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def refresh_facts() -> int:
    return facts_refresh()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def send_alerts() -> int:
    facts_refresh()
    return alerts_send()
