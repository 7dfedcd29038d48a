"""What the platform can tell people, and which preference (if any) can turn it off."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    WELCOME = "welcome", "Welcome"
    JOB_CREATED = "job_created", "Job created"
    JOB_SUCCEEDED = "job_succeeded", "Job succeeded"
    JOB_FAILED = "job_failed", "Job failed"
    JOB_PAUSED = "job_paused", "Job paused after failures"
    REMINDER = "reminder", "Reminder"
    MEETING_REMINDER = "meeting_reminder", "Meeting reminder"
    MEETING_INVITATION = "meeting_invitation", "Meeting invitation or update"
    MEETING_CANCELLED = "meeting_cancelled", "Meeting cancelled"
    TASK_DUE_SOON = "task_due_soon", "Task due soon"
    TASK_ASSIGNED = "task_assigned", "Task assigned"
    DAILY_DIGEST = "daily_digest", "Daily digest"
    TASK_DIGEST = "task_digest", "Task digest job"
    TEST_EMAIL = "test_email", "Test email"
    VERIFY_EMAIL = "verify_email", "Verify your email address"
    PASSWORD_RESET = "password_reset", "Password reset"
    REGISTER_ATTEMPT = "register_attempt", "Someone tried to register"
    EMAILS_HELD_BACK = "emails_held_back", "Emails over the hourly limit"


# kind -> the NotificationPreference field that must be on; kinds not listed always go out
PREFERENCE_FOR_KIND = {
    Kind.JOB_CREATED: "job_created",
    Kind.JOB_SUCCEEDED: "job_succeeded",
    Kind.JOB_FAILED: "job_failed",
    Kind.TASK_DUE_SOON: "task_due_soon",
    Kind.DAILY_DIGEST: "daily_digest",
    Kind.TASK_ASSIGNED: "task_assigned",
}

# about the account itself, asked for by its owner (or someone claiming the address): sent
# to an address not verified yet, and not counted against NOTIFICATIONS_PER_USER_PER_HOUR
ACCOUNT_KINDS = frozenset(
    {Kind.VERIFY_EMAIL, Kind.PASSWORD_RESET, Kind.REGISTER_ATTEMPT, Kind.TEST_EMAIL}
)
# not counted against the hourly limit either: the summary of what that limit held back
UNLIMITED_KINDS = ACCOUNT_KINDS | {Kind.EMAILS_HELD_BACK}
