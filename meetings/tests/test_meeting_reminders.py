"""Each participant's reminders: planned from the meeting, sent once at their time by beat."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from meetings import reminders, services
from meetings.models import Reminder
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def planned(organizer, emails=(), *, in_minutes=60, **kwargs):
    starts = timezone.now().replace(microsecond=0) + timedelta(minutes=in_minutes)
    return services.meeting_create(
        organizer=organizer,
        title="Planning",
        type="virtual",
        url="https://meet.example.com/p",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        participant_emails=emails,
        **kwargs,
    )


def sent_to() -> list[int]:
    return sorted(
        Notification.objects.filter(kind="meeting_reminder").values_list("user", flat=True)
    )


def test_reminders_are_sent_once_at_their_time(user, other_user):
    meeting = planned(user, [other_user.email], reminder_minutes=[15, 30])
    first = meeting.starts_at - timedelta(minutes=30)
    assert reminders.due_next() == first
    assert reminders.due_run(now=first - timedelta(seconds=1)) == 0
    assert reminders.due_run(now=first) == 2  # the organizer's and the invitee's
    assert sent_to() == sorted([user.pk, other_user.pk])
    assert reminders.due_run(now=first) == 0  # sent: not again
    assert reminders.due_next() == meeting.starts_at - timedelta(minutes=15)


def test_answers_offsets_moves_and_cancelling_plan_them_again(user, other_user):
    meeting = planned(user, [other_user.email])
    assert Reminder.objects.count() == 2  # 15 minutes before, each
    services.meeting_respond(meeting=meeting, user=other_user, response="declined")
    assert Reminder.objects.count() == 1  # who declined is not reminded
    services.meeting_respond(
        meeting=meeting, user=other_user, response="accepted", reminder_minutes=[5, 10]
    )
    assert Reminder.objects.count() == 3
    later = meeting.starts_at + timedelta(hours=2)
    services.meeting_update(
        meeting=meeting, actor=user, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    assert reminders.due_next() == later - timedelta(minutes=15)
    services.meeting_cancel(meeting=meeting, actor=user)
    assert not Reminder.objects.exists()


def test_a_reminder_already_past_is_not_planned(user):
    planned(user, in_minutes=10)  # 15 minutes before is gone
    assert not Reminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_beat_wakes_for_a_reminder_and_sends_it(user, settings):
    from jobs.beat import DispatchingScheduler
    from taskplatform.celery import app as celery_app

    PeriodicTask.objects.update(enabled=False)
    PeriodicTasks.update_changed()
    settings.JOBS_DISPATCH_POLL_SECONDS = 5
    meeting = planned(user, in_minutes=16, reminder_minutes=[15])
    # make it due in 0.3 s
    assert Reminder.objects.update(due_at=timezone.now() + timedelta(seconds=0.3)) == 1
    scheduler = DispatchingScheduler(app=celery_app, lazy=True)
    wait = scheduler.tick()
    assert 0 < wait <= 0.3
    time.sleep(wait)
    scheduler.tick()
    assert sent_to() == [user.pk]
    assert meeting.title in Notification.objects.get(kind="meeting_reminder").subject
