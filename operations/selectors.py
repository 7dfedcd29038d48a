"""Platform-wide numbers for operators (admin API, dashboard, `manage.py stats`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from files.models import StoredFile
from jobs.models import Job, JobRun
from notifications.models import Notification
from tasks.models import Task

ACTIVE_DAYS = 30


def _by(queryset: QuerySet[Any], field: str, choices: Iterable[str]) -> dict[str, int]:
    counts = dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
    return {value: counts.get(value, 0) for value in choices}


def platform_stats() -> dict:
    now = timezone.now()
    users = get_user_model().objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(is_active=True)),
        recently_active=Count(
            "pk", filter=Q(is_active=True, last_login__gte=now - timedelta(days=ACTIVE_DAYS))
        ),
        staff=Count("pk", filter=Q(is_staff=True)),
        unverified=Count("pk", filter=Q(email_verified_at__isnull=True)),
    )
    day_ago = now - timedelta(hours=24)
    notifications = Notification.objects.aggregate(
        sent=Count("pk", filter=Q(status__in=Notification.WENT_OUT)),
        failed=Count("pk", filter=Q(status__in=Notification.UNDELIVERED)),
        queued=Count("pk", filter=Q(status=Notification.Status.QUEUED)),
        held=Count("pk", filter=Q(status=Notification.Status.HELD)),
        not_sent=Count("pk", filter=Q(status__in=Notification.NOT_SENT)),
        sent_24h=Count("pk", filter=Q(status__in=Notification.WENT_OUT, sent_at__gte=day_ago)),
        failed_24h=Count(
            "pk", filter=Q(status=Notification.Status.FAILED, updated_at__gte=day_ago)
        ),
    )
    storage = StoredFile.objects.aggregate(files=Count("pk"), bytes=Sum("size"))
    return {
        "users": users,
        "tasks_by_status": _by(Task.objects.all(), "status", Task.Status.values),
        "jobs_by_status": _by(Job.objects.all(), "status", Job.Status.values),
        "runs_24h_by_status": _by(
            JobRun.objects.filter(created_at__gte=day_ago), "status", JobRun.Status.values
        ),
        "notifications": notifications,
        "storage": {"files": storage["files"], "bytes": storage["bytes"] or 0},
        "generated_at": now,
    }


def daily_activity(*, days: int = 14) -> dict:
    """Runs per day by status and notifications sent / failed per day, oldest first (UTC)."""
    today = timezone.now().date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    since = timezone.now() - timedelta(days=days)
    runs = (
        JobRun.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    run_counts: dict = {}
    for day, status, n in runs:
        run_counts[(day, status)] = n
    notes = (
        Notification.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(
            sent=Count("pk", filter=Q(status__in=Notification.WENT_OUT)),
            failed=Count("pk", filter=Q(status__in=Notification.UNDELIVERED)),
        )
        .order_by()
    )
    note_counts = {day: (sent, failed) for day, sent, failed in notes}
    return {
        "dates": dates,
        "runs": {
            status: [run_counts.get((day, status), 0) for day in dates]
            for status in JobRun.Status.values
        },
        "notifications": {
            "sent": [note_counts.get(day, (0, 0))[0] for day in dates],
            "failed": [note_counts.get(day, (0, 0))[1] for day in dates],
        },
    }


def users_with_counts() -> QuerySet[Any]:
    """Users with their job and task counts, as correlated subqueries (joining both
    relations at once would multiply the rows). QuerySet[Any]: the rows are users with two
    annotations (`job_count`, `task_count`) the User type doesn't declare."""

    def count_of(model: type[Job] | type[Task]) -> Coalesce:
        rows = model.objects.filter(owner=OuterRef("pk")).order_by().values("owner")
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0)

    return get_user_model().objects.annotate(job_count=count_of(Job), task_count=count_of(Task))
