"""Due-soon reminders: one `task_due_soon` email per (task, due date), made in bulk.

The sweep is one INSERT … SELECT (notifications_queue_bulk) built from an ORM query: every
open task due within the window becomes a queued notification to its owner whose
idempotency key is `task_due_soon:<task id>:<due_at>` (owners switched off, or whose
preferences say no, get none: the notifications service applies that). The key's unique
constraint makes running the sweep twice, or two sweeps at once, create each reminder once;
moving the due date makes a new key, so a new reminder. Rows carry only the task id; the
sender renders them with fresh data just before sending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.kinds import Kind
from notifications.rendering import ContextGone
from notifications.services import notifications_queue_bulk

from .models import Priority, Task

SECOND = timedelta(seconds=1)


def due_soon_candidates(*, now: datetime) -> QuerySet[Task]:
    """Open tasks due within TASKS_DUE_SOON_HOURS of `now`."""
    window_end = now + timedelta(hours=settings.TASKS_DUE_SOON_HOURS)
    return Task.objects.open().filter(due_at__gt=now, due_at__lte=window_end).order_by()


def due_soon_reminders_queue(*, now: datetime | None = None) -> int:
    """Queue the reminders that are due; returns how many were created."""
    now = now or timezone.now()
    text: CharField[str, str] = CharField()
    reminders = due_soon_candidates(now=now).values(
        user_id=F("owner_id"),
        to_email=F("owner__email"),
        subject=Concat(Value("Due soon: "), F("title"), output_field=text),
        context=JSONObject(task_id=F("id"), due_at=F("due_at")),
        idempotency_key=Concat(
            Value("task_due_soon:"),
            Cast("id", text),
            Value(":"),
            Cast("due_at", text),
            output_field=text,
        ),
    )
    return notifications_queue_bulk(kind=Kind.TASK_DUE_SOON, rows=reminders, now=now)


def due_soon_context_load(stored: dict[str, Any]) -> dict[str, Any]:
    """Fresh task data for the email; nothing to send if the task moved on meanwhile."""
    task_id = stored.get("task_id")
    task = Task.objects.filter(pk=task_id).first() if isinstance(task_id, int) else None
    if task is None:
        raise ContextGone("the task was deleted")
    if task.status == Task.Status.DONE:
        raise ContextGone("the task is done")
    stored_due = parse_datetime(str(stored.get("due_at") or ""))
    if stored_due is not None and timezone.is_naive(stored_due):
        stored_due = timezone.make_aware(stored_due, UTC)
    if task.due_at is None or stored_due is None or abs(task.due_at - stored_due) > SECOND:
        raise ContextGone("the due date changed")
    return {
        "task": {
            "id": task.pk,
            "title": task.title,
            "due_at": task.due_at,
            "status": task.status,
            "priority": Priority.label_of(task.priority),
        }
    }
