"""Several runs in one message (reminders due together): each claimed as it starts, the
emails published together, a redelivery after a kill picks up where the worker died."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from audit.models import AuditEvent
from jobs import runner
from jobs.kinds import reminder
from jobs.models import Job, JobRun
from live.models import LiveEvent
from notifications import publishing
from notifications.models import Notification

from .helpers import make_job

pytestmark = pytest.mark.django_db


def queued_runs(user, count: int) -> list[int]:
    return [
        JobRun.objects.create(
            job=make_job(user, notify_on=[]), trigger="schedule", scheduled_for=timezone.now()
        ).pk
        for _ in range(count)
    ]


@pytest.mark.django_db(transaction=True)  # real commits: their callbacks run as in a worker
def test_a_message_of_runs_runs_each_once_and_publishes_their_emails_together(user, monkeypatch):
    ids = queued_runs(user, 3)
    published = []
    monkeypatch.setattr(
        publishing, "notifications_publish_due", lambda ids: published.append(ids) or len(ids)
    )
    assert runner.runs_execute(run_ids=ids, message_id="m-1") == ["succeeded"] * 3
    emails = list(
        Notification.objects.filter(kind="reminder").order_by("pk").values_list("pk", flat=True)
    )
    assert published == [emails]  # one publish for the three
    assert AuditEvent.objects.filter(action="reminder.sent").count() == 3
    started = list(JobRun.objects.filter(pk__in=ids).order_by("pk").values_list("started_at"))
    assert started == sorted(started)  # claimed one by one, as each started
    assert runner.runs_execute(run_ids=ids, message_id="m-2") == [None] * 3  # a duplicate


def test_the_message_again_after_its_worker_died_finishes_what_it_had_not(user):
    first, second, third = queued_runs(user, 3)
    assert runner.run_execute(run_id=first, message_id="m-1") == "succeeded"
    # the worker claimed the second under m-1, then was killed; the third never started
    JobRun.objects.filter(pk=second).update(status="running", claimed_by="m-1", deliveries=1)
    statuses = runner.runs_execute(run_ids=[first, second, third], message_id="m-1")
    assert statuses == [None, "succeeded", "succeeded"]
    assert Notification.objects.filter(kind="reminder").count() == 3
    assert AuditEvent.objects.filter(action="reminder.sent").count() == 3


def test_a_run_past_the_time_limit_stops_the_message_and_hands_back_the_rest(user, monkeypatch):
    ids = queued_runs(user, 3)
    JobRun.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())

    def slow_second(job, job_run):
        if job_run.pk == ids[1]:
            raise SoftTimeLimitExceeded()
        return {}

    monkeypatch.setattr(reminder, "execute", slow_second)
    assert runner.runs_execute(run_ids=ids, message_id="m-1") == ["succeeded", "retrying", None]
    third = JobRun.objects.get(pk=ids[2])
    assert third.status == "queued" and third.enqueued_at is None  # the dispatcher resends it
    assert "Time limit" in JobRun.objects.get(pk=ids[1]).error


def test_a_message_of_reminders_is_recorded_with_a_few_statements_for_all(
    user, django_assert_max_num_queries
):
    ids = queued_runs(user, 10)
    # the read, the lock; each email (its hourly limit, savepoint, insert, release); then the
    # runs, the jobs, the audit events and the live events, one statement each (one at a
    # time: 10 a run)
    with django_assert_max_num_queries(3 + 4 * 10 + 5):
        assert runner.runs_execute(run_ids=ids) == ["succeeded"] * 10
    for run in JobRun.objects.filter(pk__in=ids).select_related("job"):
        assert run.status == "succeeded" and run.deliveries == 1
        assert run.started_at <= run.finished_at
        assert Notification.objects.filter(pk=run.result["notification_id"]).exists()
        assert run.job.last_run_id == run.pk and run.job.consecutive_failures == 0
    assert AuditEvent.objects.filter(action="job.run_succeeded").count() == 10
    assert AuditEvent.objects.filter(action="reminder.sent").count() == 10
    assert LiveEvent.objects.filter(type="run.finished", object_id__in=ids).count() == 10


def test_one_failing_run_leaves_the_others_succeeded_and_nothing_twice(user, monkeypatch):
    ids = queued_runs(user, 3)
    real = reminder.execute

    def second_fails(job, job_run):
        if job_run.pk == ids[1]:
            raise ConnectionError("relay down")
        return real(job, job_run)

    monkeypatch.setattr(reminder, "execute", second_fails)
    assert runner.runs_execute(run_ids=ids, message_id="m-1") == [
        "succeeded",
        "retrying",
        "succeeded",
    ]
    assert Notification.objects.filter(kind="reminder").count() == 2  # the first try undone
    assert AuditEvent.objects.filter(action="reminder.sent").count() == 2


def test_a_cancelled_job_s_run_in_a_message_is_dropped_the_others_run(user):
    ids = queued_runs(user, 3)
    Job.objects.filter(runs__pk=ids[0]).update(status="cancelled")
    assert runner.runs_execute(run_ids=ids) == ["cancelled", "succeeded", "succeeded"]
    assert Notification.objects.filter(kind="reminder").count() == 2
