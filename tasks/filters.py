"""How a list of tasks is narrowed and ordered: the API's query parameters (tasks.api.filters,
tasks.api.views.TaskOrdering) and the web app's filter form build their queries here, so the
two lists can't drift. Values arrive already checked; these only build querysets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from .models import Priority, Tag, overdue_condition

Rows = TypeVar("Rows", bound="QuerySet[Any, Any]")  # tasks, or their rows (.values())

# what a list may be ordered by (a leading "-": descending)
ORDERING_FIELDS = ("due_at", "priority", "created_at", "title")
DEFAULT_ORDERING = ("-created_at", "-id")


def tasks_matching(tasks: Rows, text: str) -> Rows:
    """Tasks with `text` in their title or description (case-insensitive)."""
    return tasks.filter(Q(title__icontains=text) | Q(description__icontains=text))


def tasks_tagged(tasks: Rows, names: Iterable[str]) -> Rows:
    """Tasks carrying any of the tags `names` (case-insensitive; blanks ignored)."""
    wanted = [name.strip().lower() for name in names if name.strip()]
    tagged = (
        Tag.objects.filter(tasks=OuterRef("pk"))
        .annotate(lower=Lower("name"))
        .filter(lower__in=wanted)
    )
    return tasks.filter(Exists(tagged))


def tasks_overdue(tasks: Rows, overdue: bool) -> Rows:
    """Tasks due in the past and not done (`overdue`), or the others."""
    condition = overdue_condition()
    return tasks.filter(condition) if overdue else tasks.exclude(condition)


def tasks_filtered(
    tasks: Rows,
    *,
    search: str = "",
    statuses: Sequence[str] = (),
    priorities: Sequence[Priority] = (),
    tags: Sequence[str] = (),
    due_from: datetime | None = None,
    due_to: datetime | None = None,
    owner_id: int | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
) -> Rows:
    """`tasks` narrowed by every criterion given (the API's filters, by keyword)."""
    if search:
        tasks = tasks_matching(tasks, search)
    if statuses:
        tasks = tasks.filter(status__in=statuses)
    if priorities:
        tasks = tasks.filter(priority__in=priorities)
    if tags:
        tasks = tasks_tagged(tasks, tags)
    if due_from is not None:
        tasks = tasks.filter(due_at__gte=due_from)
    if due_to is not None:
        tasks = tasks.filter(due_at__lte=due_to)
    if owner_id is not None:
        tasks = tasks.filter(owner_id=owner_id)
    if assignee_id is not None:
        tasks = tasks.filter(assignee_id=assignee_id)
    if overdue is not None:
        tasks = tasks_overdue(tasks, overdue)
    return tasks


def task_ordering(terms: Sequence[str]) -> list[str | OrderBy]:
    """The order_by() arguments for `terms` (ORDERING_FIELDS, "-" for descending): tasks
    without a due date come last either way, and a tie-breaker on id follows in the first
    term's direction (so the (due_at, id) index serves it). No terms: no ordering."""
    result: list[str | OrderBy] = []
    for term in terms:
        if term.lstrip("-") == "due_at":
            due = F("due_at")
            result.append(
                due.desc(nulls_last=True) if term.startswith("-") else due.asc(nulls_last=True)
            )
        else:
            result.append(term)
    if not result:
        return result
    return [*result, "-id" if terms[0].startswith("-") else "id"]
