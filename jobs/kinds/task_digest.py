"""`task_digest`: email the owner their overdue, due-soon and open tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from notifications.kinds import Kind
from notifications.services import notification_create
from tasks.models import Task

if TYPE_CHECKING:
    from jobs.models import Job, JobRun

NAME = "task_digest"
SENDS_EMAIL = True
TIME_LIMIT = 120
LISTED = 20  # tasks listed per section; the counts are exact


class Params(serializers.Serializer):
    """No parameters."""


def execute(job: Job, job_run: JobRun) -> dict:
    now = timezone.now()
    soon = now + timedelta(hours=settings.TASKS_DUE_SOON_HOURS)
    theirs = Task.objects.filter(owner_id=job.owner_id)
    open_tasks = theirs.open()
    sections = {
        "overdue": theirs.overdue(now=now).order_by("due_at", "id"),
        "due_soon": open_tasks.filter(due_at__gte=now, due_at__lte=soon).order_by("due_at", "id"),
        "open_tasks": open_tasks.order_by("-priority", "due_at", "id"),
    }
    context: dict[str, Any] = {"job": job}
    counts: dict[str, int] = {}
    for name, queryset in sections.items():
        counts[name] = queryset.count()
        context[name] = list(queryset.only("title", "due_at", "priority")[:LISTED])
        context[f"{name}_count"] = counts[name]
    notification = notification_create(
        user=job.owner,
        kind=Kind.TASK_DIGEST,
        context=context,
        idempotency_key=f"job-run:{job_run.first_run_id}:task_digest",
    )
    return {"notification_id": getattr(notification, "pk", None), **counts}
