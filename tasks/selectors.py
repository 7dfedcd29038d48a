"""Reads of tasks: every query is scoped to what the caller may see (BOLA-proof)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any, TypedDict
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from files.models import StoredFile

from .models import Priority, Tag, Task, overdue_condition

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
# a task's own columns a row shows (every column the list orders by among them)
TASK_FIELDS = (
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "visibility",
    "completed_at",
    "created_at",
    "updated_at",
)
PEOPLE = ("owner", "assignee")
# task_list_values' keys: the columns above and the people's ids (no join: counting a
# page's matches then reads the task index alone)
TASK_VALUES = (*TASK_FIELDS, *(f"{who}_id" for who in PEOPLE))


def task_list(*, user: User) -> QuerySet[Task]:
    """The tasks `user` may see, with what rows show of their owner and assignee."""
    return (
        Task.objects.filter(_visible_to(user))
        .select_related("owner", "assignee")
        # of the users only what a row shows: loading two whole users per task (password
        # hash and all) took a fifth of a 50-task page's time
        .only(
            *(field.name for field in Task._meta.concrete_fields),
            *(f"{who}__{field}" for who in PEOPLE for field in USER_FIELDS),
        )
    )


def task_list_values(*, user: User) -> QuerySet[Task, dict[str, Any]]:
    """task_list as plain rows of the task table alone (TASK_VALUES), for pages: building a
    Task and two Users per row took more time than the page's query; a dict per row is a
    tenth of that. task_rows adds the people, tags and attachments."""
    return Task.objects.filter(_visible_to(user)).values(*TASK_VALUES)


def user_display_name(*, user: User) -> str:
    """What others see of a person: their full name, or "User <id>" when they gave none."""
    return _display_name(user.pk, user.full_name)


def task_count(*, owner: User) -> int:
    """How many tasks `owner` owns."""
    return Task.objects.filter(owner=owner).count()


def task_rows(*, tasks: Sequence[Task] | Sequence[dict[str, Any]], viewer: User) -> list[TaskRow]:
    """A page of tasks as `viewer` sees them: rows of task_list_values, or tasks.

    Their people, tag names and attachment summaries come in one flat query whatever the
    page size (_extras).
    """
    values = [row if isinstance(row, dict) else _values_of(row) for row in tasks]
    people_ids = {row[f"{who}_id"] for row in values for who in PEOPLE} - {None}
    people, tags, files = _extras([row["id"] for row in values], sorted(people_ids))
    return [
        {
            "id": row["id"],
            "owner": _person(_someone(people, row["owner_id"]), viewer),
            "title": row["title"],
            "description": row["description"],
            "status": row["status"],
            "priority": row["priority"],
            "due_at": row["due_at"],
            "tags": sorted(tags[row["id"]]),
            "visibility": row["visibility"],
            "assignee": (
                _person(_someone(people, row["assignee_id"]), viewer)
                if row["assignee_id"]
                else None
            ),
            "attachments": files[row["id"]],
            "completed_at": row["completed_at"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in values
    ]


_TAG, _FILE, _PERSON = 0, 1, 2


def _extras(
    ids: list[int], people_ids: list[int]
) -> tuple[dict[int, UserSummary], dict[int, list[str]], dict[int, list[FileSummary]]]:
    """The people (summaries with their email, by id), the tag names and the attachments
    (by file id) of the tasks `ids`, in one query.

    Written out: one UNION ALL instead of three ORM queries or joins (each ORM query cost
    more to build than to run; prefetch_related, before, also built a manager per task).
    Table names come from the models, values are parameters.
    """
    people: dict[int, UserSummary] = {}
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    files: dict[int, list[FileSummary]] = {pk: [] for pk in ids}
    if not ids:
        return people, tags, files
    q = connection.ops.quote_name
    tagged, tag = q(Task.tags.through._meta.db_table), q(Tag._meta.db_table)
    attached, stored = q(Task.attachments.through._meta.db_table), q(StoredFile._meta.db_table)
    users = q(get_user_model()._meta.db_table)
    tasks, persons = ", ".join(["%s"] * len(ids)), ", ".join(["%s"] * len(people_ids))
    sql = (
        f"SELECT {_TAG}, t.task_id, NULL, g.name, NULL, NULL, NULL"  # noqa: S608 (names: _meta)
        f" FROM {tagged} t JOIN {tag} g ON g.id = t.tag_id WHERE t.task_id IN ({tasks})"
        f" UNION ALL SELECT {_FILE}, a.task_id, f.id, f.name, f.size, f.content_type, f.sha256"
        f" FROM {attached} a JOIN {stored} f ON f.id = a.storedfile_id"
        f" WHERE a.task_id IN ({tasks})"
        f" UNION ALL SELECT {_PERSON}, NULL, u.id, u.full_name, NULL, u.email, NULL"
        f" FROM {users} u WHERE u.id IN ({persons})"
        " ORDER BY 1, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *ids, *people_ids])
        for kind, task_id, pk, name, size, text, sha256 in cursor.fetchall():
            if kind == _TAG:
                tags[task_id].append(name)
            elif kind == _FILE:
                files[task_id].append(
                    {"id": pk, "name": name, "size": size, "content_type": text, "sha256": sha256}
                )
            else:
                people[pk] = {"id": pk, "name": _display_name(pk, name), "email": text}
    return people, tags, files


def _values_of(task: Task) -> dict[str, Any]:
    """A task as the row task_list_values gives for it."""
    return {name: getattr(task, name) for name in TASK_VALUES}


def _someone(people: dict[int, UserSummary], pk: int) -> UserSummary:
    """The person `pk`; one deleted since the page was read shows as a name without address."""
    return people.get(pk) or {"id": pk, "name": _display_name(pk, ""), "email": None}


def _person(person: UserSummary, viewer: User) -> UserSummary:
    """A person as `viewer` sees them: the address only to themselves and to staff."""
    if viewer.is_staff or person["id"] == viewer.pk:
        return person
    return {**person, "email": None}


def _display_name(pk: int, full_name: str) -> str:
    return full_name.strip() or f"User {pk}"


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
