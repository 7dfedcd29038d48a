"""Reads of tasks: every query is scoped to what the caller may see (BOLA-proof)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Priority, Task


def task_visibility(user) -> Q:
    """Owner, assignee and staff see a task; everyone signed in sees public ones."""
    if user.is_staff:
        return Q()
    return Q(owner=user) | Q(assignee=user) | Q(visibility=Task.Visibility.PUBLIC)


def task_list(*, user) -> QuerySet[Task]:
    return Task.objects.filter(task_visibility(user)).select_related("owner", "assignee")


def task_hydrate(tasks: list[Task]) -> list[Task]:
    """Attach tag names and attachment summaries to a page of tasks in two flat queries.

    Cheaper than prefetch_related, which builds a related manager per task and relation.
    """
    ids = [task.pk for task in tasks]
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    for task_id, name in Task.tags.through.objects.filter(task_id__in=ids).values_list(
        "task_id", "tag__name"
    ):
        tags[task_id].append(name)
    files: dict[int, list[dict]] = {pk: [] for pk in ids}
    for row in (
        Task.attachments.through.objects.filter(task_id__in=ids)
        .values(
            "task_id",
            "storedfile_id",
            "storedfile__name",
            "storedfile__size",
            "storedfile__content_type",
            "storedfile__sha256",
        )
        .order_by("storedfile_id")
    ):
        files[row["task_id"]].append(
            {
                "id": row["storedfile_id"],
                "name": row["storedfile__name"],
                "size": row["storedfile__size"],
                "content_type": row["storedfile__content_type"],
                "sha256": row["storedfile__sha256"],
            }
        )
    for task in tasks:
        task.tag_names = sorted(tags[task.pk])
        task.attachment_summaries = files[task.pk]
    return tasks


def task_stats(*, user) -> dict:
    """Analytics over the caller's own tasks, computed in the database."""
    tasks = Task.objects.filter(owner=user)
    now = timezone.now()
    counts = tasks.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=Task.Status.DONE)),
        overdue=Count("id", filter=Q(due_at__lt=now) & ~Q(status=Task.Status.DONE)),
        **{f"status_{s}": Count("id", filter=Q(status=s)) for s in Task.Status.values},
        **{f"priority_{p.label}": Count("id", filter=Q(priority=p.value)) for p in Priority},
    )
    duration = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
    completed = tasks.filter(status=Task.Status.DONE, completed_at__isnull=False)
    average = completed.aggregate(avg=Avg(duration))["avg"]
    hours = [
        d.total_seconds() / 3600 for d in completed.annotate(d=duration).values_list("d", flat=True)
    ]
    zone = ZoneInfo(user.timezone)
    start = (now - timedelta(days=29)).astimezone(zone).date()
    per_day = dict(
        completed.filter(completed_at__gte=datetime.combine(start, time.min, tzinfo=zone))
        .annotate(day=TruncDate("completed_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    total = counts["total"]
    return {
        "total": total,
        "by_status": {s: counts[f"status_{s}"] for s in Task.Status.values},
        "by_priority": {p.label: counts[f"priority_{p.label}"] for p in Priority},
        "completion_rate": round(counts["done"] / total, 4) if total else 0.0,
        "avg_completion_hours": round(average.total_seconds() / 3600, 2) if average else None,
        "median_completion_hours": round(median(hours), 2) if hours else None,
        "overdue": counts["overdue"],
        "completed_per_day": [
            {
                "date": (start + timedelta(days=i)).isoformat(),
                "count": per_day.get(start + timedelta(days=i), 0),
            }
            for i in range(30)
        ],
    }
