"""`reminder`: email the owner a message, with a task's details when `task_id` is theirs.

Queueing the mail is audited (`reminder.sent` on the job), once per slot: a retry of the same
slot finds its mail and its event already written, together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from rest_framework import serializers

from audit.models import AuditEvent
from audit.services import audit_record
from notifications.kinds import Kind
from notifications.services import notification_create
from taskplatform.models import MAX_ID
from tasks.models import Task

if TYPE_CHECKING:
    from jobs.models import Job, JobRun

NAME = "reminder"
SENDS_EMAIL = True
TIME_LIMIT = 60
BATCHABLE = True  # a notification row and an audit event


class Params(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
    task_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate_task_id(self, value: int) -> int:
        if not Task.objects.filter(pk=value, owner=self.context["owner"]).exists():
            raise serializers.ValidationError("No task of yours has this id.")
        return value


def execute(job: Job, job_run: JobRun) -> dict:
    task_id = job.params.get("task_id")
    task = Task.objects.filter(pk=task_id, owner_id=job.owner_id).first() if task_id else None
    slot = job_run.first_run_id
    with transaction.atomic(savepoint=False):  # (the runner's transaction, when it has one)
        notification = notification_create(
            user=job.owner,
            kind=Kind.REMINDER,
            context={"message": job.params.get("message", ""), "task": task, "job": job},
            idempotency_key=f"job-run:{slot}:reminder",
        )
        if notification is not None and (_first_execution(job_run) or not _audited(job, slot)):
            audit_record(
                action="reminder.sent",
                target=job,
                details={
                    "run_id": job_run.pk,
                    "slot": slot,
                    "notification_id": notification.pk,
                    "status": notification.status,  # queued, or held / suppressed
                    "task_id": task_id,
                },
            )
    result = {"notification_id": getattr(notification, "pk", None)}
    if task_id:
        result["task_id"] = task_id
        result["task_found"] = task is not None  # deleted since: the message still goes out
    return result


def _first_execution(job_run: JobRun) -> bool:
    """The slot's first attempt, run for the first time: nothing can have written its event
    yet (no need to look: the audit table is the largest there is)."""
    return job_run.attempt == 1 and job_run.deliveries == 1


def _audited(job: Job, slot: int) -> bool:
    return AuditEvent.objects.filter(
        target_type=job._meta.label_lower,
        target_id=str(job.pk),
        action="reminder.sent",
        details__slot=slot,
    ).exists()
