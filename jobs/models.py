"""Jobs and their runs. The tables keep their original names (`tasks_job`, `tasks_jobrun`):
the app moved out of `tasks` without moving any data."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models

from taskplatform.models import TimestampedModel
from taskplatform.validators import validate_one_line


class Job(TimestampedModel):
    """An automation the platform runs for its owner: a kind, its params and a schedule.

    The schedule is one row of django-celery-beat's schedule tables (exactly one of the
    three foreign keys is set); `next_run_at` is what the dispatcher looks at.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    name = models.CharField(max_length=200, validators=[MinLengthValidator(1), validate_one_line])
    # validated against the kinds registry (jobs/kinds/), not choices: adding a kind
    # is adding one module, with no migration
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    crontab = models.ForeignKey(
        "django_celery_beat.CrontabSchedule", null=True, blank=True, on_delete=models.PROTECT
    )
    interval = models.ForeignKey(
        "django_celery_beat.IntervalSchedule", null=True, blank=True, on_delete=models.PROTECT
    )
    clocked = models.ForeignKey(
        "django_celery_beat.ClockedSchedule", null=True, blank=True, on_delete=models.PROTECT
    )
    timezone = models.CharField(max_length=63, default="UTC")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    notify_on = models.JSONField(default=list, blank=True)
    max_retries = models.PositiveSmallIntegerField(default=3)
    next_run_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_run = models.ForeignKey(
        "JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "tasks_job"
        ordering = ["-created_at", "-id"]
        indexes = [
            # the dispatcher's question: which active jobs are due?
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(status="active"),
                name="job_due_idx",
            ),
            models.Index(fields=["owner", "-created_at"], name="job_owner_created_idx"),
            models.Index(fields=["owner", "status", "kind"], name="job_owner_status_kind_idx"),
            models.Index(fields=["status", "kind"], name="job_status_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(crontab__isnull=False, interval__isnull=True, clocked__isnull=True)
                    | models.Q(crontab__isnull=True, interval__isnull=False, clocked__isnull=True)
                    | models.Q(crontab__isnull=True, interval__isnull=True, clocked__isnull=False)
                ),
                name="job_exactly_one_schedule",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="job_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class JobRun(TimestampedModel):
    """One execution of a job (one attempt: a retry is a new run pointing at the first)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Retrying"  # this attempt failed; a retry run is queued
        CANCELLED = "cancelled", "Cancelled"  # the job was cancelled before it started

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        RETRY = "retry", "Retry"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    # the slot this run is for (a retry: when it may start)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempt = models.PositiveSmallIntegerField(default=1)
    # the first attempt; kept NULL-able so pruning an old attempt never takes later ones along
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # set when a message was handed to the broker; the sweeper re-sends stale ones
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # the Celery message whose execution holds this run in `running`, and how many
    # executions started it: a message delivered again while its run is still `running`
    # means the worker that had it died (acks_late + reject_on_worker_lost requeue it)
    # (db_default: code of the previous release keeps inserting while a deploy migrates)
    claimed_by = models.CharField(max_length=64, blank=True, default="", db_default="")
    deliveries = models.PositiveSmallIntegerField(default=0, db_default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "tasks_jobrun"
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            models.Index(fields=["job", "-scheduled_for"], name="jobrun_job_scheduled_idx"),
            # runs waiting for a message: new ones, retries whose time came, lost messages
            models.Index(
                fields=["scheduled_for"],
                condition=models.Q(status="queued", enqueued_at__isnull=True),
                name="jobrun_unsent_idx",
            ),
            models.Index(fields=["status", "enqueued_at"], name="jobrun_status_enqueued_idx"),
            models.Index(fields=["status", "started_at"], name="jobrun_status_started_idx"),
            models.Index(fields=["status", "-created_at"], name="jobrun_status_created_idx"),
        ]
        constraints = [
            # a scheduled slot never runs twice, whatever the dispatchers do
            models.UniqueConstraint(
                fields=["job", "scheduled_for"],
                condition=models.Q(trigger="schedule"),
                name="jobrun_one_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.scheduled_for:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def first_run_id(self) -> int:
        return self.retry_of_id or self.pk
