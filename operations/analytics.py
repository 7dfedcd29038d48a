"""Task analytics for operators (admin API, dashboard): completion per user and overall.

Every figure comes from aggregate SQL: no loop over users in Python, whatever their number.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from files.models import StoredFile
from jobs.models import Job
from tasks.models import Task

RECENT_DAYS = 7
DONE = Task.Status.DONE


def _owned_count(condition: Q) -> Coalesce:
    """How many of the user's tasks meet `condition`: a correlated subquery on the
    (owner, status, …) index, so counting the users for a page joins no task."""
    rows = Task.objects.filter(condition, owner=OuterRef("pk")).order_by().values("owner")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0)


def user_completion_rates() -> QuerySet[Any]:
    """Every user with `tasks_total`, `tasks_done` and `completion_rate` (done / total; NULL
    for a user without tasks) of the tasks they own, in one query.
    QuerySet[Any]: the rows are users with annotations the User type doesn't declare."""
    users = get_user_model().objects.only("id", "email", "full_name", "is_active")
    return users.annotate(
        tasks_total=_owned_count(Q()),
        tasks_done=_owned_count(Q(status=DONE)),
        completion_rate=ExpressionWrapper(
            Cast(F("tasks_done"), FloatField()) / NullIf(F("tasks_total"), 0),
            output_field=FloatField(),
        ),
    )


def _seconds(duration: timedelta | None) -> float | None:
    return round(duration.total_seconds(), 3) if duration is not None else None


def _per_user(count: int, users: int) -> float:
    return round(count / users, 2) if users else 0.0


def analytics_summary() -> dict[str, Any]:
    """Averages per user account (active or not), the overall completion rate, the last
    7 days' tasks created and completed, and the fastest and slowest completion
    (completed_at - created_at of done tasks). Four aggregate queries."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    took = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
    done = Q(status=DONE, completed_at__isnull=False)
    tasks = Task.objects.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=DONE)),
        created_recently=Count("pk", filter=Q(created_at__gte=since)),
        completed_recently=Count("pk", filter=done & Q(completed_at__gte=since)),
        fastest=Min(took, filter=done),
        slowest=Max(took, filter=done),
    )
    users = get_user_model().objects.count()
    jobs = Job.objects.count()
    files = StoredFile.objects.count()
    return {
        "users": users,
        "avg_tasks_per_user": _per_user(tasks["total"], users),
        "avg_jobs_per_user": _per_user(jobs, users),
        "avg_files_per_user": _per_user(files, users),
        "tasks": tasks["total"],
        "tasks_done": tasks["done"],
        "completion_rate": tasks["done"] / tasks["total"] if tasks["total"] else None,
        "tasks_created_7d": tasks["created_recently"],
        "tasks_completed_7d": tasks["completed_recently"],
        "fastest_completion_seconds": _seconds(tasks["fastest"]),
        "slowest_completion_seconds": _seconds(tasks["slowest"]),
        "generated_at": timezone.now(),
    }
