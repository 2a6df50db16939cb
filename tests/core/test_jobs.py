"""Background jobs: every item once, failures named and retried, stalled jobs resumed, only their people see them."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client
from django.utils import timezone

from backend.core import jobs
from backend.core.exceptions import NotFound, ValidationFailed
from backend.core.models import CalendarDay, Job, JobItem
from tests.conftest import api_as, user

pytestmark = pytest.mark.django_db
FIRST_DAY = date(2031, 1, 6)
# What the items of the test kind do: record one university day off each (a row anyone can count).
REFUSE: set[str] = set()
LOSE_CONNECTION: set[str] = set()


def _day_off(job: Job, item: JobItem) -> dict[str, Any]:
    if item.key in REFUSE:
        raise ValidationFailed(f"item {item.key} is refused")
    CalendarDay.objects.create(date=FIRST_DAY + timedelta(days=int(item.key)), description=f"job {job.pk}")
    if item.key in LOSE_CONNECTION:
        LOSE_CONNECTION.discard(item.key)
        raise OperationalError("server closed the connection unexpectedly")
    return {"url": f"/somewhere/{item.key}/"}


jobs.register_job_kind(
    "tests.days_off",
    run_item=_day_off,
    may_view=lambda viewer, job: viewer.username == "registrar_head1",
)


@pytest.fixture(autouse=True)
def _clean_switches() -> None:
    REFUSE.clear()
    LOSE_CONNECTION.clear()


def start(count: int, owner: str = "registrar_staff1") -> Job:
    return jobs.job_start(
        kind="tests.days_off",
        owner=user(owner),
        title={"en": "Days off", "kk": "Демалыс күндері", "ru": "Выходные дни"},
        items=[(str(n), {"en": f"Day {n}"}) for n in range(count)],
    )


def days_recorded() -> int:
    return CalendarDay.objects.filter(date__gte=FIRST_DAY).count()


def test_a_job_does_every_item_and_reports_each(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = start(5)
    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.failed, job.percent) == (Job.Status.DONE, 5, 5, 0, 100)
    assert days_recorded() == 5
    assert list(job.items.values_list("status", flat=True)) == [JobItem.Status.DONE] * 5
    assert job.items.get(key="3").result == {"url": "/somewhere/3/"}


def test_a_job_delivered_twice_does_each_item_once(demo: None) -> None:
    job = start(4)
    jobs.job_run(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # as if the second delivery came mid-way
    jobs.job_run(job_id=job.pk)
    assert days_recorded() == 4
    job.refresh_from_db()
    assert (job.done, job.failed, job.status) == (4, 0, Job.Status.DONE)


def test_one_refused_item_is_named_and_does_not_stop_the_others(demo: None) -> None:
    REFUSE.add("1")
    job = start(3)
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.FAILED, 2, 1)
    refused = job.items.get(key="1")
    assert (refused.status, refused.message) == (JobItem.Status.FAILED, "item 1 is refused")
    assert days_recorded() == 2

    # When what made it fail is fixed, the person who started the job retries the failed item only.
    REFUSE.clear()
    jobs.job_retry_failed(job_id=job.pk, user=user("registrar_staff1"))
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.DONE, 3, 0)
    assert days_recorded() == 3


def test_a_lost_connection_keeps_the_item_waiting_and_undoes_its_work(demo: None) -> None:
    LOSE_CONNECTION.add("1")
    job = start(3)
    with pytest.raises(OperationalError):
        jobs.job_run(job_id=job.pk)
    # Item 0 committed; item 1's day was rolled back with it and it waits for the retry Celery makes.
    assert days_recorded() == 1
    assert job.items.get(key="1").status == JobItem.Status.PENDING
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, days_recorded()) == (Job.Status.DONE, 3, 3)


def test_a_stalled_job_is_resumed_by_the_sweeper(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    job = start(2)  # its message was lost: nobody ever ran it
    later = timezone.now() + jobs.STALL_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_sweep(now=later) == 1
    job.refresh_from_db()
    assert (job.status, job.done) == (Job.Status.DONE, 2)
    assert jobs.jobs_sweep(now=later + jobs.STALL_AFTER * 2) == 0  # finished jobs are left alone


def test_a_job_that_never_finishes_is_given_up_visibly(demo: None) -> None:
    job = start(2)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=jobs.MAX_RUNS)
    assert jobs.jobs_sweep(now=timezone.now() + jobs.STALL_AFTER * 2) == 0
    job.refresh_from_db()
    assert (job.status, job.failed) == (Job.Status.FAILED, 2)
    assert "Stopped after 5 attempts" in job.items.first().message  # type: ignore[union-attr]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_job_at_once_do_each_item_once(
    transactional_demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "_enqueue", lambda *_sent: None)  # the workers are these threads, not eager Celery
    job = start(30)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            jobs.job_run(job_id=job.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert connection.vendor == "postgresql"
    job.refresh_from_db()
    assert (job.status, job.done, job.failed, days_recorded()) == (Job.Status.DONE, 30, 0, 30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_item_held_by_a_run_that_dies_is_done_by_the_run_still_going(
    transactional_demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run skips what another holds, but does not end before it: when the holder dies (its transaction rolled
    back, as PostgreSQL does for a killed worker's connection), the item is done by the run still going."""
    import psycopg

    monkeypatch.setattr(jobs, "_enqueue", lambda *_sent: None)  # the runs are started here, not by eager Celery
    job = start(3)
    held = job.items.get(key="1")
    settings_dict = connection.settings_dict
    dying = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
    )
    dying.execute("SELECT 1 FROM core_jobitem WHERE id = %s FOR UPDATE", [held.pk])  # a run holding item 1
    killer = threading.Timer(1.0, dying.close)  # ...until its worker dies: the transaction is rolled back
    killer.start()
    try:
        finished = jobs.job_run(job_id=job.pk)
    finally:
        killer.join()
    assert finished is not None
    assert (finished.status, finished.done, finished.failed, days_recorded()) == (Job.Status.DONE, 3, 0, 3)


def test_only_its_people_see_a_job(demo: None) -> None:
    job = start(1)
    jobs.job_run(job_id=job.pk)
    assert jobs.job_visible(job_id=job.pk, user=user("registrar_head1")) == job  # the kind lets the head follow it
    with pytest.raises(NotFound):
        jobs.job_visible(job_id=job.pk, user=user("student1"))
    assert api_as("registrar_staff1").get(f"/api/jobs/{job.pk}/").json()["items"][0]["status"] == "done"
    assert api_as("student1").get(f"/api/jobs/{job.pk}/").status_code == 404
    assert api_as("student1").post(f"/api/jobs/{job.pk}/retry/").status_code == 404
    assert api_as("registrar_staff1").post(f"/api/jobs/{job.pk}/retry/").status_code == 409  # nothing failed


def test_the_progress_page_lists_every_item_in_the_users_language(demo: None) -> None:
    REFUSE.add("0")
    job = start(2)
    jobs.job_run(job_id=job.pk)
    client = Client()
    client.cookies["django_language"] = "ru"
    client.force_login(user("registrar_staff1"))
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Выходные дни" in html
    assert 'data-item="0" data-status="failed"' in html
    assert "item 0 is refused" in html
    assert 'href="/somewhere/1/"' in html
    stranger = Client()
    stranger.force_login(user("student1"))
    assert stranger.get(f"/jobs/{job.pk}/").status_code == 404
    assert stranger.get(f"/jobs/{job.pk}/progress").status_code == 404
