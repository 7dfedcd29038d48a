"""Beat dispatches each job at its due time (jobs/beat.py), not at the next 1 s tick."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from jobs import dispatch
from jobs.beat import RETRY_SECONDS, DispatchingScheduler
from jobs.models import Job, JobRun
from jobs.schedules import ONCE, Schedule
from taskplatform.celery import app as celery_app

from .helpers import in_seconds, make_job

# the scheduler closes stale connections, so no wrapping test transaction
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "_publish", lambda run_ids, kind: sent.extend(run_ids) or True)
    return sent


@pytest.fixture(autouse=True)
def _no_periodic_tasks():
    """Beat's own periodic tasks (every second) would cut its sleeps short."""
    PeriodicTask.objects.update(enabled=False)
    PeriodicTasks.update_changed()


@pytest.fixture
def scheduler(settings):
    settings.JOBS_DISPATCH_POLL_SECONDS = 5
    return DispatchingScheduler(app=celery_app, lazy=True)


def test_beat_sleeps_until_the_job_is_due_then_dispatches_it_at_once(user, scheduler, published):
    job = make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(0.4)))
    wait = scheduler.tick()
    assert 0.2 < wait <= 0.4  # until the due time, not a second's tick
    assert not published
    # the run is written ahead (JOBS_DISPATCH_LEAD_SECONDS): at its time only the message
    assert JobRun.objects.filter(job=job, enqueued_at__isnull=True).count() == 1
    time.sleep(wait)
    scheduler.tick()
    run = JobRun.objects.get(job=job)
    assert published == [run.pk]
    late = timezone.now() - run.scheduled_for
    assert timedelta(0) <= late < timedelta(seconds=0.2)  # the claim came right after
    assert scheduler.tick() <= 5  # nothing due: the poll interval
    assert Job.objects.get(pk=job.pk).status == Job.Status.COMPLETED


def test_a_job_created_while_beat_sleeps_is_seen_at_the_next_poll(user, settings, published):
    settings.JOBS_DISPATCH_POLL_SECONDS = 0.2
    scheduler = DispatchingScheduler(app=celery_app, lazy=True)
    assert scheduler.tick() <= 0.2
    make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(0.1)))
    time.sleep(0.25)
    scheduler.tick()
    assert len(published) == 1


def test_next_due_is_the_earliest_job_or_unsent_run(user):
    assert dispatch.next_due() is None
    soon, later = in_seconds(60), in_seconds(120)
    make_job(user, schedule=Schedule(ONCE, run_at=later))
    assert dispatch.next_due() == later
    job = make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(600)))
    JobRun.objects.create(job=job, trigger=JobRun.Trigger.RETRY, scheduled_for=soon)
    assert dispatch.next_due() == soon


def test_a_database_outage_is_retried_without_stopping_beat(user, scheduler, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(dispatch, "jobs_dispatch_due", down)
    assert scheduler.tick() == RETRY_SECONDS


def test_runs_the_broker_refuses_are_retried_a_second_later_not_in_a_spin(
    user, scheduler, monkeypatch
):
    monkeypatch.setattr(dispatch, "_publish", lambda run_ids, kind: False)
    make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(0.05)))
    time.sleep(0.1)
    scheduler.tick()  # the run is created; the broker refuses its message
    assert JobRun.objects.get().enqueued_at is None
    assert scheduler.tick() == pytest.approx(RETRY_SECONDS, abs=0.1)
