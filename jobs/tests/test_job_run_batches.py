"""Several runs in one message (reminders due together): each claimed as it starts, the
emails published together, a redelivery after a kill picks up where the worker died."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from audit.models import AuditEvent
from jobs import runner
from jobs.kinds import reminder
from jobs.models import JobRun
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
    calls = []

    def slow_second(job, job_run):
        calls.append(job_run.pk)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        return {}

    monkeypatch.setattr(reminder, "execute", slow_second)
    assert runner.runs_execute(run_ids=ids, message_id="m-1") == ["succeeded", "retrying", None]
    third = JobRun.objects.get(pk=ids[2])
    assert third.status == "queued" and third.enqueued_at is None  # the dispatcher resends it
    assert "Time limit" in JobRun.objects.get(pk=ids[1]).error
