"""Each participant's reminders, sent by beat's dispatcher at their exact time (jobs/beat.py
asks every module of BEAT_DUE_SOURCES when it next has work, and wakes then).

A reminder is a row due at `starts_at - minutes`. Every change that moves them — a meeting
created, moved or cancelled, an answer, new offsets — plans the meeting's unsent rows again.
Sending claims due rows with `SKIP LOCKED` and writes their emails in the same transaction
(keyed on the row), so two beats, or a crash half-way, send each once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notifications.kinds import Kind
from notifications.services import notification_create

from .models import Meeting, Participant, Reminder

BATCH = 500


def reminders_plan(*, meeting: Meeting, now: datetime | None = None) -> int:
    """The meeting's unsent reminders, written again from its current state; returns how many."""
    now = now or timezone.now()
    Reminder.objects.filter(participant__meeting=meeting, sent_at__isnull=True).delete()
    if meeting.status != Meeting.Status.SCHEDULED:
        return 0
    rows = [
        Reminder(participant=participant, minutes=minutes, due_at=due_at)
        for participant in meeting.participants.exclude(response=Participant.Response.DECLINED)
        for minutes in participant.reminder_minutes
        if (due_at := meeting.starts_at - timedelta(minutes=minutes)) > now
    ]
    Reminder.objects.bulk_create(rows)
    return len(rows)


def due_next() -> datetime | None:
    """When the next reminder is due (one index lookup)."""
    return (
        Reminder.objects.filter(sent_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


@transaction.atomic
def due_run(*, now: datetime) -> int:
    """Send every reminder due by `now`; returns how many were claimed."""
    claimed = list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sent_at__isnull=True, due_at__lte=now)
        .select_related("participant__user", "participant__meeting__organizer")
        .order_by("due_at", "id")[:BATCH]
    )
    for reminder in claimed:
        meeting = reminder.participant.meeting
        if meeting.status == Meeting.Status.SCHEDULED and meeting.ends_at > now:
            notification_create(
                user=reminder.participant.user,
                kind=Kind.MEETING_REMINDER,
                context={
                    "meeting": meeting,
                    "organizer_email": meeting.organizer.email,
                    "minutes": reminder.minutes,
                },
                idempotency_key=f"meeting-reminder:{reminder.pk}",
            )
    Reminder.objects.filter(pk__in=[r.pk for r in claimed]).update(sent_at=now)
    return len(claimed)
