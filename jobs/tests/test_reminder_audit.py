"""A reminder job's mail is audited as `reminder.sent`, once per slot (issue 14)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from jobs import runner
from jobs.kinds import reminder
from jobs.models import JobRun
from notifications.models import Notification

from .helpers import make_job

pytestmark = pytest.mark.django_db


def events():
    return list(AuditEvent.objects.filter(action="reminder.sent").order_by("id"))


def test_a_reminder_run_audits_its_mail(user):
    task_less = make_job(user)
    run = JobRun.objects.create(job=task_less, trigger="schedule", scheduled_for=timezone.now())
    assert runner.run_execute(run_id=run.pk) == "succeeded"
    (event,) = events()
    mail = Notification.objects.get(kind="reminder")
    assert (event.target_type, event.target_id, event.actor_id) == (
        "jobs.job",
        str(task_less.pk),
        None,
    )
    assert event.details == {
        "run_id": run.pk,
        "slot": run.pk,
        "notification_id": mail.pk,
        "status": "queued",
        "task_id": None,
    }


def test_a_retry_of_the_same_slot_audits_nothing_more(user):
    job = make_job(user)
    first = JobRun.objects.create(job=job, trigger="schedule", scheduled_for=timezone.now())
    retry = JobRun.objects.create(
        job=job, trigger="retry", scheduled_for=timezone.now(), attempt=2, retry_of=first
    )
    reminder.execute(job, first)
    reminder.execute(job, first)  # the same execution again (a message delivered twice)
    reminder.execute(job, retry)
    assert len(events()) == 1 and Notification.objects.filter(kind="reminder").count() == 1
    other_slot = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    reminder.execute(job, other_slot)
    assert [e.details["slot"] for e in events()] == [first.pk, other_slot.pk]


def test_the_event_says_when_the_mail_is_held(user):
    type(user).objects.filter(pk=user.pk).update(email_verified_at=None)
    user.refresh_from_db()
    job = make_job(user)
    reminder.execute(
        job, JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    )
    assert events()[0].details["status"] == "held"


def test_a_deactivated_owner_s_reminder_is_neither_sent_nor_audited(user):
    job = make_job(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    job.owner.refresh_from_db()
    reminder.execute(
        job, JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    )
    assert events() == [] and not Notification.objects.exists()
