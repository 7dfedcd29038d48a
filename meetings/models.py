"""Meetings: an organizer, a time in a zone, participants who answer (issue 16, seed 002)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from taskplatform.models import TimestampedModel
from taskplatform.validators import validate_one_line


class Meeting(TimestampedModel):
    class Type(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIRTUAL = "virtual", "Virtual"
        HYBRID = "hybrid", "Hybrid"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organized_meetings"
    )
    title = models.CharField(max_length=200, validators=[validate_one_line])
    description = models.TextField(blank=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    location = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # the zone the times were given in (and are shown in); stored in UTC
    timezone = models.CharField(max_length=63, default="UTC")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    # iCalendar SEQUENCE: raised by every change a participant must hear about
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["organizer", "starts_at"], name="meeting_organizer_idx"),
            models.Index(fields=["status", "starts_at"], name="meeting_status_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="meeting_title_not_empty"),
            # where it happens follows its type
            models.CheckConstraint(
                condition=(
                    models.Q(type="in_person", url="") & ~models.Q(location="")
                    | models.Q(type="virtual", location="") & ~models.Q(url="")
                    | models.Q(type="hybrid") & ~models.Q(location="") & ~models.Q(url="")
                ),
                name="meeting_place_fits_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} @ {self.starts_at:%Y-%m-%d %H:%M}"


class Participant(TimestampedModel):
    class Response(models.TextChoices):
        NEEDS_ACTION = "needs_action", "No answer yet"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TENTATIVE = "tentative", "Tentative"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_invitations"
    )
    response = models.CharField(
        max_length=16, choices=Response.choices, default=Response.NEEDS_ACTION
    )
    # minutes before the start at which this participant is reminded
    reminder_minutes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "meeting"], name="participant_user_idx")]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.meeting} ({self.response})"


class FeedToken(TimestampedModel):
    """The secret in a user's calendar feed address (`/calendar/<secret>.ics`): whoever has
    the address reads the user's meetings, so it can be replaced (the old one stops)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_feed"
    )
    secret = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"


class Reminder(TimestampedModel):
    """One reminder email due to one participant (meetings/reminders.py plans them; beat's
    dispatcher sends them at `due_at`)."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="reminders")
    minutes = models.PositiveIntegerField()  # before the start
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # the dispatcher's question: which reminders are due?
            models.Index(
                fields=["due_at"], condition=models.Q(sent_at__isnull=True), name="reminder_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant.user} {self.minutes} min before {self.participant.meeting}"
