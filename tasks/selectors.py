"""Reads of tasks: every query is scoped to what the caller may see (BOLA-proof)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any, TypedDict
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from files.models import StoredFile

from .models import Priority, Task, overdue_condition

if TYPE_CHECKING:
    from django.db.models import OuterRef

    from accounts.models import User


class UserSummary(TypedDict):
    """A person on a task. `email` only for the viewer themselves, or a staff viewer: an
    address is not shown to everyone who can see a public task."""

    id: int
    name: str
    email: str | None


class FileSummary(TypedDict):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str


class TaskRow(TypedDict):
    """A task in the API's shape; tasks.api.serializers.TaskSerializer renders exactly this."""

    id: int
    owner: UserSummary
    title: str
    description: str
    status: str
    priority: int
    due_at: datetime | None
    tags: list[str]
    visibility: str
    assignee: UserSummary | None
    attachments: list[FileSummary]
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _visible_to(user: User) -> Q:
    """Owner, assignee and staff see a task; everyone signed in sees public ones."""
    if user.is_staff:
        return Q()
    return Q(owner=user) | Q(assignee=user) | Q(visibility=Task.Visibility.PUBLIC)


# what a UserSummary is made of
USER_FIELDS = ("email", "full_name")


def task_list(*, user: User) -> QuerySet[Task]:
    """The tasks `user` may see, with what rows show of their owner and assignee."""
    return (
        Task.objects.filter(_visible_to(user))
        .select_related("owner", "assignee")
        # of the users only what a row shows: loading two whole users per task (password
        # hash and all) took a fifth of a 50-task page's time
        .only(
            *(field.name for field in Task._meta.concrete_fields),
            *(f"{who}__{field}" for who in ("owner", "assignee") for field in USER_FIELDS),
        )
    )


def user_display_name(*, user: User) -> str:
    """What others see of a person: their full name, or "User <id>" when they gave none."""
    return user.full_name.strip() or f"User {user.pk}"


def task_count(*, owner: User) -> int:
    """How many tasks `owner` owns."""
    return Task.objects.filter(owner=owner).count()


def task_rows(*, tasks: Sequence[Task], viewer: User) -> list[TaskRow]:
    """A page of tasks (from task_list: owner and assignee joined) as `viewer` sees them.

    Tag names and attachment summaries come in two flat queries whatever the page size:
    cheaper than prefetch_related, which builds a related manager per task and relation.
    """
    ids = [task.pk for task in tasks]
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    for task_id, name in Task.tags.through.objects.filter(task_id__in=ids).values_list(
        "task_id", "tag__name"
    ):
        tags[task_id].append(name)
    files: dict[int, list[FileSummary]] = {pk: [] for pk in ids}
    for task_id, file_id, name, size, content_type, sha256 in (
        Task.attachments.through.objects.filter(task_id__in=ids)
        .order_by("storedfile_id")
        .values_list(
            "task_id",
            "storedfile_id",
            "storedfile__name",
            "storedfile__size",
            "storedfile__content_type",
            "storedfile__sha256",
        )
    ):
        files[task_id].append(
            {
                "id": file_id,
                "name": name,
                "size": size,
                "content_type": content_type,
                "sha256": sha256,
            }
        )
    return [
        {
            "id": task.pk,
            "owner": _user_summary(task.owner, viewer),
            "title": task.title,
            "description": task.description,
            "status": task.status,
            "priority": task.priority,
            "due_at": task.due_at,
            "tags": sorted(tags[task.pk]),
            "visibility": task.visibility,
            "assignee": (
                _user_summary(task.assignee, viewer) if task.assignee is not None else None
            ),
            "attachments": files[task.pk],
            "completed_at": task.completed_at,
            "created_at": task.created_at,
            "updated_at": task.updated_at,
        }
        for task in tasks
    ]


def _user_summary(user: User, viewer: User) -> UserSummary:
    shown = viewer.is_staff or user.pk == viewer.pk
    return {
        "id": user.pk,
        "name": user_display_name(user=user),
        "email": user.email if shown else None,
    }


def task_attachments(*, task: Task) -> QuerySet[StoredFile]:
    """The files attached to `task`, oldest first. Pass a task the caller
    may see (from task_list): seeing a task is what lets one read its attachments."""
    return StoredFile.objects.filter(tasks=task).order_by("id")


def task_attachment_get(*, task: Task, file_id: int) -> StoredFile | None:
    """One file attached to `task`; None for any other file, the owner's others included."""
    return task_attachments(task=task).filter(pk=file_id).first()


def task_stats(*, user: User) -> dict[str, Any]:
    """Analytics over the caller's own tasks, computed in the database."""
    tasks = Task.objects.filter(owner=user)
    now = timezone.now()
    counts = tasks.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=Task.Status.DONE)),
        overdue=Count("id", filter=overdue_condition(now=now)),
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


def task_digest_list(*, person: User | int | OuterRef) -> QuerySet[Task]:
    """The tasks a daily digest tells `person` about: the ones they own or are assigned
    (`person` may be an OuterRef to a user id, for a planner's EXISTS)."""
    return Task.objects.filter(Q(owner=person) | Q(assignee=person))
