"""Due-soon reminders: one `task_due_soon` email per (task, due date), made in bulk.

The sweep is one INSERT … SELECT built from an ORM query: every task not done, due within
the window, whose owner wants due-soon emails, becomes a queued Notification whose
idempotency key is `task_due_soon:<task id>:<due_at>`. The key's unique constraint makes
running the sweep twice, or two sweeps at once, create each reminder once (ON CONFLICT DO
NOTHING); moving the due date makes a new key, so a new reminder. Rows carry only the task
id; the sender renders them with fresh data just before sending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, IntegerField, QuerySet, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.kinds import Kind
from notifications.models import Notification
from notifications.rendering import ContextGone
from notifications.services import kick_senders

from .models import Priority, Task

SECOND = timedelta(seconds=1)

# Notification columns filled by the sweep, in the order of the SELECT below
COLUMNS = [
    "user_id",
    "to_email",
    "kind",
    "subject",
    "body_text",
    "body_html",
    "context",
    "status",
    "attempts",
    "last_error",
    "provider_message_id",
    "claimed_by",
    "idempotency_key",
    "next_attempt_at",
    "created_at",
    "updated_at",
]


def due_soon_candidates(*, now: datetime) -> QuerySet[Task]:
    window_end = now + timedelta(hours=settings.TASKS_DUE_SOON_HOURS)
    return (
        Task.objects.filter(due_at__gt=now, due_at__lte=window_end, owner__is_active=True)
        .exclude(status=Task.Status.DONE)
        .exclude(owner__notification_preference__task_due_soon=False)
        .order_by()
    )


def _insert_select(now: datetime) -> tuple[str, list[Any]]:
    text = CharField()
    rows = (
        due_soon_candidates(now=now)
        .annotate(
            n_user_id=F("owner_id"),
            n_to_email=F("owner__email"),
            n_kind=Value(Kind.TASK_DUE_SOON.value, output_field=text),
            n_subject=Concat(Value("Due soon: "), F("title"), output_field=text),
            n_body_text=Value("", output_field=text),
            n_body_html=Value("", output_field=text),
            n_context=JSONObject(task_id=F("id"), due_at=F("due_at")),
            n_status=Value(Notification.Status.QUEUED.value, output_field=text),
            n_attempts=Value(0, output_field=IntegerField()),
            n_last_error=Value("", output_field=text),
            n_provider_message_id=Value("", output_field=text),
            n_claimed_by=Value("", output_field=text),
            n_idempotency_key=Concat(
                Value("task_due_soon:"),
                Cast("id", text),
                Value(":"),
                Cast("due_at", text),
                output_field=text,
            ),
            n_next_attempt_at=Value(now),
            n_created_at=Value(now),
            n_updated_at=Value(now),
        )
        .values_list(*[f"n_{column}" for column in COLUMNS])
    )
    select_sql, params = rows.query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    sql = (
        f"INSERT INTO {table} ({columns}) {select_sql} "
        f"ON CONFLICT ({connection.ops.quote_name('idempotency_key')}) DO NOTHING"
    )
    return sql, list(params)


@transaction.atomic
def task_due_soon_sweep(*, now: datetime | None = None) -> int:
    """Queue the reminders that are due; returns how many were created."""
    sql, params = _insert_select(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = max(cursor.rowcount, 0)
    if created:
        kick_senders()
    return created


def load_due_soon_context(stored: dict[str, Any]) -> dict[str, Any]:
    """Fresh task data for the email; nothing to send if the task moved on meanwhile."""
    task = Task.objects.filter(pk=stored.get("task_id")).first()
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
            "priority": Priority(task.priority).label,
        }
    }
