"""The worker side: claim, handler, result, retries with back-off, notify, auto-pause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from jobs import kinds, runner
from jobs.kinds import reminder
from jobs.models import Job, JobRun
from notifications.models import Notification
from notifications.services import preferences_update

from .helpers import make_job

pytestmark = pytest.mark.django_db


def queued_run(job, **kwargs) -> JobRun:
    kwargs.setdefault("scheduled_for", timezone.now())
    return JobRun.objects.create(job=job, trigger="schedule", **kwargs)


@pytest.fixture
def failing(monkeypatch):
    """The reminder handler fails (a fault injected into our own code)."""
    errors = []

    def explode(job, job_run):
        error = errors.pop(0) if errors else ConnectionError("mail relay unreachable")
        raise error

    monkeypatch.setattr(reminder, "execute", explode)
    return errors


def test_a_run_succeeds_once_and_records_its_result(user):
    job = make_job(user, notify_on=["succeeded"])
    run = queued_run(job)
    assert runner.run_execute(run_id=run.pk) == "succeeded"
    assert runner.run_execute(run_id=run.pk) is None  # a redelivered message does nothing
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == "succeeded" and run.started_at and run.finished_at
    assert run.result["notification_id"] == Notification.objects.get(kind="reminder").pk
    assert job.last_run == run and job.consecutive_failures == 0
    assert AuditEvent.objects.filter(action="job.run_succeeded").count() == 1
    assert Notification.objects.filter(kind="reminder").count() == 1
    # notify_on asks for it: sent, though job_succeeded is off in the default preferences
    assert Notification.objects.filter(kind="job_succeeded").count() == 1


def test_no_succeeded_notification_when_notify_on_leaves_it_out(user):
    preferences_update(user=user, job_succeeded=True)
    job = make_job(user, notify_on=["failed"])
    runner.run_execute(run_id=queued_run(job).pk)
    assert not Notification.objects.filter(kind="job_succeeded").exists()


def test_transient_failures_retry_with_backoff_then_fail(user, failing, settings):
    settings.JOBS_RETRY_BASE_SECONDS = 10
    job = make_job(user, max_retries=2, notify_on=["failed"])
    run = queued_run(job)
    assert runner.run_execute(run_id=run.pk) == "retrying"
    retry = JobRun.objects.get(retry_of=run)
    assert retry.attempt == 2 and retry.trigger == "retry" and retry.status == "queued"
    assert timedelta(seconds=7) < retry.scheduled_for - timezone.now() < timedelta(seconds=13)
    assert runner.run_execute(run_id=retry.pk) == "retrying"
    third = JobRun.objects.get(retry_of=run, attempt=3)
    assert timedelta(seconds=15) < third.scheduled_for - timezone.now() < timedelta(seconds=25)
    assert runner.run_execute(run_id=third.pk) == "failed"
    assert JobRun.objects.count() == 3
    job.refresh_from_db()
    assert job.consecutive_failures == 1 and job.status == "active"
    failed = Notification.objects.get(kind="job_failed")
    assert "mail relay unreachable" in failed.body_text
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("job.run_retrying") == 2 and actions.count("job.run_failed") == 1


def test_permanent_errors_are_not_retried(user, failing):
    failing.append(kinds.PermanentError("the task is gone"))
    job = make_job(user, max_retries=5)
    run = queued_run(job)
    assert runner.run_execute(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert run.error == "the task is gone" and not JobRun.objects.filter(retry_of=run).exists()


def test_consecutive_failures_pause_the_job_and_tell_the_owner(user, failing, settings):
    settings.JOBS_MAX_CONSECUTIVE_FAILURES = 3
    job = make_job(user, schedule="interval", max_retries=0, notify_on=[])
    for _ in range(3):
        runner.run_execute(run_id=queued_run(job, scheduled_for=timezone.now()).pk)
        job.refresh_from_db()
    assert job.status == "paused" and job.consecutive_failures == 3
    paused = Notification.objects.get(kind="job_paused")  # told, even with notify_on empty
    assert "3 times in a row" in paused.body_text
    assert not Notification.objects.filter(kind="job_failed").exists()
    assert AuditEvent.objects.filter(action="job.auto_paused").count() == 1


def test_a_success_resets_the_failure_count(user, failing, monkeypatch):
    job = make_job(user, schedule="interval", max_retries=0)
    runner.run_execute(run_id=queued_run(job).pk)
    job.refresh_from_db()
    assert job.consecutive_failures == 1
    monkeypatch.setattr(reminder, "execute", lambda job, job_run: {"ok": True})
    runner.run_execute(run_id=queued_run(job, scheduled_for=timezone.now()).pk)
    job.refresh_from_db()
    assert job.consecutive_failures == 0


def test_a_cancelled_job_s_queued_run_does_not_run(user):
    job = make_job(user)
    run = queued_run(job)
    Job.objects.filter(pk=job.pk).update(status="cancelled")
    assert runner.run_execute(run_id=run.pk) == "cancelled"
    assert not Notification.objects.exists()


def test_an_unknown_kind_fails_without_retry(user):
    job = make_job(user)
    Job.objects.filter(pk=job.pk).update(kind="removed_kind")
    run = queued_run(job)
    assert runner.run_execute(run_id=run.pk) == "failed"
    assert "removed_kind" in JobRun.objects.get(pk=run.pk).error


def test_a_late_worker_cannot_finish_a_run_the_sweeper_declared_lost(user, failing):
    job = make_job(user, max_retries=0)
    run = queued_run(job)
    JobRun.objects.filter(pk=run.pk).update(status="failed")  # the sweeper got there first
    run.refresh_from_db()
    run.status = "running"
    assert runner._succeed(run, {"late": True}) is None
    assert JobRun.objects.get(pk=run.pk).status == "failed"


def test_time_limits_come_from_the_kind():
    assert kinds.time_limit("file_cleanup") == 600
    assert kinds.time_limit("reminder") == 60
    assert kinds.hard_time_limit("file_cleanup") == 630
    assert kinds.hard_time_limit("reminder") == 90


def test_the_same_message_again_takes_over_a_run_whose_worker_died(user):
    job = make_job(user)
    run = queued_run(job)
    # a worker claimed it under message m-1, then was killed before finishing
    JobRun.objects.filter(pk=run.pk).update(status="running", claimed_by="m-1", deliveries=1)
    assert runner.run_execute(run_id=run.pk, message_id="m-2") is None  # another message: no
    assert runner.run_execute(run_id=run.pk, message_id="m-1") == "succeeded"  # requeued: yes
    run.refresh_from_db()
    assert run.status == "succeeded" and run.deliveries == 2 and run.attempt == 1
    assert JobRun.objects.filter(job=job).count() == 1
    assert Notification.objects.filter(kind="reminder").count() == 1


def test_a_run_that_kills_every_worker_is_failed_after_three_deliveries(user, settings):
    job = make_job(user, max_retries=1)
    run = queued_run(job)
    JobRun.objects.filter(pk=run.pk).update(
        status="running", claimed_by="m-1", deliveries=runner.MAX_DELIVERIES
    )
    assert runner.run_execute(run_id=run.pk, message_id="m-1") is None
    run.refresh_from_db()
    assert run.status == "retrying" and "worker" in run.error
    assert JobRun.objects.filter(retry_of=run, attempt=2, status="queued").exists()


def test_a_job_deleted_while_its_run_runs_is_left_alone(user, monkeypatch):
    job = make_job(user)
    run = queued_run(job)

    def delete_then_fail(job, job_run):
        Job.objects.filter(pk=job.pk).delete()
        raise ConnectionError("gone")

    monkeypatch.setattr(reminder, "execute", delete_then_fail)
    # a handler outside the run's transaction: the delete stands, as another session's would
    monkeypatch.setattr(kinds, "batchable", lambda kind: False)
    assert runner.run_execute(run_id=run.pk) is None
    assert not JobRun.objects.exists()


def test_a_quick_kind_s_work_is_undone_when_its_run_fails(user, monkeypatch):
    job = make_job(user)
    run = queued_run(job)

    def write_then_fail(job, job_run):
        reminder.notification_create(user=job.owner, kind="reminder", context={"message": "x"})
        raise ConnectionError("relay down")

    monkeypatch.setattr(reminder, "execute", write_then_fail)
    assert runner.run_execute(run_id=run.pk) == "retrying"
    assert not Notification.objects.filter(kind="reminder").exists()  # the retry writes it


def test_a_paused_job_runs_only_what_was_asked_for_by_hand(user, failing):
    job = make_job(user, schedule="interval", max_retries=3)
    Job.objects.filter(pk=job.pk).update(status="paused")
    scheduled = queued_run(job)
    assert runner.run_execute(run_id=scheduled.pk) == "cancelled"
    manual = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    assert runner.run_execute(run_id=manual.pk) == "failed"  # ran; no retry while paused
    assert not JobRun.objects.filter(retry_of=manual).exists()


def test_a_deactivated_owner_s_runs_are_dropped(user):
    job = make_job(user)
    run = queued_run(job)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert runner.run_execute(run_id=run.pk) == "cancelled"
    assert not Notification.objects.exists()
