"""`reminder`: email the owner a message, with a task's details when `task_id` is theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers

from notifications.kinds import Kind
from notifications.services import notification_create
from taskplatform.models import MAX_ID
from tasks.models import Task

if TYPE_CHECKING:
    from jobs.models import Job, JobRun

NAME = "reminder"
SENDS_EMAIL = True
TIME_LIMIT = 60


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
    notification = notification_create(
        user=job.owner,
        kind=Kind.REMINDER,
        context={"message": job.params.get("message", ""), "task": task, "job": job},
        idempotency_key=f"job-run:{job_run.first_run_id}:reminder",
    )
    result = {"notification_id": getattr(notification, "pk", None)}
    if task_id:
        result["task_id"] = task_id
        result["task_found"] = task is not None  # deleted since: the message still goes out
    return result
