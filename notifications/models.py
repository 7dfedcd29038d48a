from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from taskplatform.models import TimestampedModel

from .kinds import Kind


class Notification(TimestampedModel):
    """One message to one recipient, with its delivery status. The table is the outbox."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"
        # waits for its recipient to verify their address (queued once they do)
        HELD = "held", "Held until the address is verified"
        # over the recipient's hourly limit: not sent, counted in one summary email
        SUPPRESSED = "suppressed", "Over the hourly limit (summarised)"
        # held too long (the address was never verified): never sent
        DROPPED = "dropped", "Dropped (address never verified)"

    # status groups, named once for the queries that ask (the dashboard, pruning)
    WENT_OUT = (Status.SENT, Status.DELIVERED)  # the mail server took it
    UNDELIVERED = (Status.FAILED, Status.BOUNCED)  # it will not reach the recipient
    NOT_SENT = (Status.SUPPRESSED, Status.DROPPED)  # on purpose: a limit, an unverified address
    FINISHED = WENT_OUT + UNDELIVERED + NOT_SENT  # nothing more happens to it

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    to_email = models.EmailField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=255)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # rows created in bulk (e.g. the due-soon sweep) carry only this and are rendered by the
    # sender, with fresh data, right before sending
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # when a queued row is next due to be sent (now, or after a retry's back-off)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # a queued row: when a sender message naming it (or its batch) was handed to the broker;
    # NULL while none was, which the publisher (beat, every second) looks for. A row goes
    # back to `queued` (retry, release, take-over, resend) always with NULL here.
    # (db_default: rows the previous release inserts during a deploy get NULL, so published)
    enqueued_at = models.DateTimeField(null=True, blank=True, db_default=None)
    sent_at = models.DateTimeField(null=True, blank=True)
    # the Celery message whose execution holds this row in `sending`: if the same message is
    # delivered again (its worker was killed and the broker requeued it), it takes the row back
    # (db_default: code of the previous release keeps inserting while a deploy migrates)
    claimed_by = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_created_idx"),
            models.Index(
                fields=["claimed_by"],
                condition=models.Q(status="sending"),
                name="notif_sending_claim_idx",
            ),
            models.Index(fields=["status", "next_attempt_at"], name="notif_status_due_idx"),
            # the publisher's query: queued rows no message names yet, by due time
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="queued", enqueued_at__isnull=True),
                name="notif_unsent_idx",
            ),
            models.Index(fields=["status", "updated_at"], name="notif_status_updated_idx"),
            models.Index(fields=["kind"], name="notif_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


class NotificationPreference(TimestampedModel):
    """What a user wants to hear about. Defaults: failures on, successes off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # the defaults of a new job's notify_on (a job's own notify_on decides for it): off, so a
    # job created without notify_on mails on failure only, as before
    job_created = models.BooleanField(default=False)
    job_succeeded = models.BooleanField(default=False)
    job_failed = models.BooleanField(default=True)
    task_due_soon = models.BooleanField(default=True)
    task_assigned = models.BooleanField(default=True)
    daily_digest = models.BooleanField(default=False)
    digest_hour = models.PositiveSmallIntegerField(
        default=9,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
        help_text="Hour of the day (0-23) in the user's time zone for the daily digest.",
    )
    # a digest with nothing to report is skipped unless the user asks for it anyway
    digest_when_empty = models.BooleanField(default=False, db_default=False)
    # the digest planner's bookkeeping (digests/planning.py): when this user's next digest
    # hour starts (UTC), so a sweep reads only the users due now; NULL: not planned yet
    digest_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(digest_hour__lte=23), name="notif_pref_digest_hour_range"
            ),
        ]
        indexes = [
            # the digest sweep's query: opted-in users whose digest hour has come (or unplanned)
            models.Index(
                fields=["digest_due_at"],
                condition=models.Q(daily_digest=True),
                name="notif_pref_digest_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"preferences of {self.user}"
