"""The dispatcher: claiming due jobs, catch-up, completion, no duplicate runs; the sweeper."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs import dispatch, sweeper
from jobs.models import Job, JobRun
from jobs.schedules import INTERVAL, ONCE, Schedule

from .helpers import in_seconds, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_publish(monkeypatch):
    """Keep runs in the database (the worker side is tested elsewhere)."""
    sent = []
    monkeypatch.setattr(dispatch, "_publish", lambda run_ids, kind: sent.extend(run_ids) or True)
    return sent


def make_due(owner, *, ago: timedelta, schedule=None, **kwargs) -> Job:
    job = make_job(owner, schedule=schedule or "interval", **kwargs)
    Job.objects.filter(pk=job.pk).update(next_run_at=timezone.now() - ago)
    job.refresh_from_db()
    return job


def test_due_jobs_get_one_run_each_and_move_on(user, no_publish):
    due = [make_due(user, ago=timedelta(seconds=1)) for _ in range(3)]
    later = make_job(user, schedule="interval")
    paused = make_due(user, ago=timedelta(seconds=1))
    Job.objects.filter(pk=paused.pk).update(status=Job.Status.PAUSED)

    assert dispatch.jobs_dispatch_due(batch=2) == 3  # two batches
    runs = JobRun.objects.all()
    assert sorted(r.job_id for r in runs) == sorted(j.pk for j in due)
    assert {r.trigger for r in runs} == {"schedule"} and {r.status for r in runs} == {"queued"}
    assert sorted(no_publish) == sorted(r.pk for r in runs)
    assert all(r.enqueued_at for r in runs)
    for job in due:
        job.refresh_from_db()
        assert job.next_run_at > timezone.now()
    assert not later.runs.exists() and not paused.runs.exists()
    assert dispatch.jobs_dispatch_due() == 0  # nothing due any more


def test_missed_slots_run_once_not_once_per_slot(user, no_publish):
    job = make_due(user, ago=timedelta(hours=2, minutes=7))  # every 15 min: 9 slots missed
    slot = job.next_run_at
    dispatch.jobs_dispatch_due()
    run = JobRun.objects.get()
    assert run.scheduled_for == slot
    job.refresh_from_db()
    assert timezone.now() < job.next_run_at <= timezone.now() + timedelta(minutes=15)
    assert (job.next_run_at - slot) % timedelta(minutes=15) == timedelta(0)  # same grid


def test_a_one_off_completes_after_its_run_is_dispatched(user, no_publish):
    job = make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(1)))
    dispatch.jobs_dispatch_due(now=in_seconds(2))
    dispatch.jobs_dispatch_due(now=in_seconds(3))
    job.refresh_from_db()
    assert job.status == "completed" and job.next_run_at is None
    assert job.runs.count() == 1


def test_a_slot_never_runs_twice(user, no_publish):
    job = make_due(user, ago=timedelta(minutes=1))
    slot = job.next_run_at
    dispatch.jobs_dispatch_due()
    # someone puts the job back on the same slot: the unique constraint keeps one run
    Job.objects.filter(pk=job.pk).update(next_run_at=slot)
    dispatch.jobs_dispatch_due()
    assert JobRun.objects.filter(job=job, scheduled_for=slot).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_create_no_duplicates(user, no_publish, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL (SQLite serialises writers)")
    settings.JOBS_MAX_ACTIVE_PER_USER = 0  # 300 jobs of one owner: enough work for two
    jobs = [
        make_job(user, schedule=Schedule(INTERVAL, every=1, period="hours")) for _ in range(300)
    ]
    Job.objects.update(next_run_at=timezone.now() - timedelta(seconds=5))
    barrier, counts, errors = threading.Barrier(2), [], []

    def dispatcher():
        try:
            barrier.wait()
            counts.append(dispatch.jobs_dispatch_due(batch=25))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(counts) == len(jobs) and all(counts)  # both took part, none twice
    assert JobRun.objects.count() == len(jobs)
    assert JobRun.objects.values("job").distinct().count() == len(jobs)


def test_retries_wait_in_the_database_until_due(user, no_publish):
    job = make_job(user)
    retry = JobRun.objects.create(job=job, trigger="retry", attempt=2, scheduled_for=in_seconds(60))
    assert dispatch.jobs_dispatch_due() == 0 and no_publish == []
    # a tick with no due job still sends the retry once its time has come
    assert dispatch.jobs_dispatch_due(now=in_seconds(61)) == 0
    assert no_publish == [retry.pk]


def test_broker_refusing_leaves_runs_for_the_next_tick(user, monkeypatch):
    job = make_job(user)
    run = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    monkeypatch.setattr(dispatch, "_publish", lambda run_ids, kind: False)
    assert dispatch.job_runs_publish_due() == 0
    run.refresh_from_db()
    assert run.status == "queued" and run.enqueued_at is None


def test_sweeper_resends_lost_messages_and_fails_runs_of_dead_workers(user, no_publish, settings):
    settings.JOBS_RETRY_BASE_SECONDS = 1
    job = make_job(user, max_retries=1)
    long_ago = timezone.now() - timedelta(hours=2)
    lost_message = JobRun.objects.create(
        job=job, trigger="manual", scheduled_for=long_ago, enqueued_at=long_ago
    )
    fresh = JobRun.objects.create(
        job=job, trigger="manual", scheduled_for=timezone.now(), enqueued_at=timezone.now()
    )
    dead = JobRun.objects.create(
        job=job, trigger="manual", scheduled_for=long_ago, status="running", started_at=long_ago
    )
    result = sweeper.job_runs_sweep()
    assert result["resent"] == 1 and result["lost"] == 1
    assert lost_message.pk in no_publish and fresh.pk not in no_publish
    dead.refresh_from_db()
    assert dead.status == "retrying" and "worker" in dead.error
    assert JobRun.objects.filter(retry_of=dead, attempt=2, status="queued").exists()


def test_a_run_counts_as_lost_after_its_own_kinds_limit(user, no_publish):
    now = timezone.now()
    reminder = make_job(user)  # hard limit 90 s
    cleanup = make_job(user, kind="file_cleanup", params={"older_than_days": 1})  # 630 s

    def running(job, seconds_ago):
        started = now - timedelta(seconds=seconds_ago)
        return JobRun.objects.create(
            job=job, trigger="manual", scheduled_for=started, status="running", started_at=started
        )

    late_reminder = running(reminder, 90 + sweeper.LOST_MARGIN_SECONDS + 1)
    young_reminder = running(reminder, 90 + sweeper.LOST_MARGIN_SECONDS - 5)
    busy_cleanup = running(cleanup, 200)
    assert sweeper.job_runs_lost(now=now) == [late_reminder.pk]
    assert young_reminder.pk and busy_cleanup.pk


def test_a_job_whose_schedule_breaks_is_set_aside_not_blocking_the_others(user, no_publish):
    from django_celery_beat.models import CrontabSchedule

    broken = make_due(user, ago=timedelta(seconds=1), schedule="0 9 * * *")
    healthy = make_due(user, ago=timedelta(seconds=1))
    CrontabSchedule.objects.filter(pk=broken.crontab_id).update(minute="99")  # an operator's edit
    assert dispatch.jobs_dispatch_due() == 2
    broken.refresh_from_db()
    assert broken.status == "paused" and not broken.runs.exists()
    assert healthy.runs.count() == 1
    from audit.models import AuditEvent

    assert AuditEvent.objects.get(action="job.auto_paused").details["reason"]


def test_each_run_message_carries_its_kind_s_time_limits(monkeypatch):
    from jobs.celery_tasks import run_job

    sent = {}
    monkeypatch.setattr(
        run_job, "apply_async", lambda args, **kwargs: sent.update(kwargs, args=args)
    )
    assert dispatch._publish([7], "file_cleanup") is True
    assert (sent["soft_time_limit"], sent["time_limit"], sent["queue"]) == (600, 630, "default")
    assert sent["args"] == (7,)  # one run: its id, as before several shared a message
    assert dispatch._publish([8, 9, 10], "reminder") is True
    assert (sent["soft_time_limit"], sent["time_limit"]) == (180, 270)  # for each of 3
    assert sent["args"] == ([8, 9, 10],)


def test_due_reminders_share_messages_and_other_kinds_go_one_each(user, settings, monkeypatch):
    settings.JOBS_RUNS_PER_MESSAGE = 2
    messages = []
    monkeypatch.setattr(dispatch, "_publish", lambda ids, kind: messages.append(ids) or True)
    reminders = [make_due(user, ago=timedelta(seconds=1)) for _ in range(3)]
    cleanups = [
        make_due(
            user, ago=timedelta(seconds=1), kind="file_cleanup", params={"older_than_days": 30}
        )
        for _ in range(2)
    ]
    assert dispatch.jobs_dispatch_due() == 5
    runs = dict(JobRun.objects.values_list("job_id", "pk"))
    assert messages == [
        [runs[reminders[0].pk], runs[reminders[1].pk]],
        [runs[reminders[2].pk]],
        [runs[cleanups[0].pk]],
        [runs[cleanups[1].pk]],
    ]


def test_runs_prepared_ahead_wait_unsent_until_their_time(user, no_publish):
    job = make_job(user, schedule=Schedule(ONCE, run_at=in_seconds(30)))
    assert dispatch.jobs_dispatch_due(lead=60) == 1
    run = JobRun.objects.get(job=job)
    assert run.enqueued_at is None and no_publish == []  # written, not sent
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.next_run_at is None
    assert dispatch.next_due(lead=60) == run.scheduled_for  # beat wakes then
    assert dispatch.job_runs_publish_due(now=in_seconds(31)) == 1
    assert no_publish == [run.pk]
