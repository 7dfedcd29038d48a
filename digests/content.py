"""What a daily digest says, read when it is sent (the sender renders digests queued in
bulk): the tasks the user owns or is assigned that were completed on the day before the
digest's local date, that are due later that day and that are overdue, and their jobs' runs
that failed in the last 24 hours. Times are shown in the user's time zone.

Two queries whatever the user has: each list comes with its full count and at most
LIST_LIMIT rows (window functions), so a user with thousands of overdue tasks gets a short
email that says how many there are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from jobs.selectors import run_failed_list
from notifications.rendering import ContextGone
from taskplatform.timezones import zone_check
from tasks.models import Task
from tasks.selectors import task_digest_list

LIST_LIMIT = 20
SECTIONS = ("overdue", "due_today", "completed")


def digest_context_load(stored: dict[str, Any]) -> dict[str, Any]:
    """The digest's content for the stored user and local date, from the data as it is now."""
    user_id = stored.get("user_id")
    if not isinstance(user_id, int):
        raise ContextGone("the digest names no user")
    day = date.fromisoformat(str(stored.get("date")))
    zone = _zone(str(stored.get("timezone") or "UTC"))
    now = timezone.now()
    content: dict[str, Any] = {
        "date": _day_label(day),
        "timezone": zone.key,
        **_task_sections(user_id, day, zone, now),
        **_failed_runs(user_id, zone, now),
    }
    if not stored.get("when_empty") and not any(
        content[f"{name}_count"] for name in (*SECTIONS, "failed_runs")
    ):
        raise ContextGone("nothing to report")
    return content


def _task_sections(user_id: int, day: date, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Overdue (open, due before now), due today (open, due from now to the local midnight),
    completed yesterday (done, completed in the local day before `day`)."""
    today, tomorrow = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
    yesterday = _midnight(day - timedelta(days=1), zone)
    is_open = ~Q(status=Task.Status.DONE)
    section = Case(
        When(is_open & Q(due_at__lt=now), then=Value("overdue")),
        When(is_open & Q(due_at__gte=now, due_at__lt=tomorrow), then=Value("due_today")),
        default=Value("completed"),
    )
    rows = (
        task_digest_list(person=user_id)
        .filter(
            (is_open & Q(due_at__lt=tomorrow))
            | Q(status=Task.Status.DONE, completed_at__gte=yesterday, completed_at__lt=today)
        )
        .annotate(section=section)
        .annotate(
            place=Window(RowNumber(), partition_by=F("section"), order_by=[F("due_at"), F("id")]),
            total=Window(Count("id"), partition_by=F("section")),
        )
        .filter(place__lte=LIST_LIMIT)
        .order_by("section", "place")
        .values("section", "total", "title", "due_at", "completed_at")
    )
    found: dict[str, Any] = {}
    for name in SECTIONS:
        found[name], found[f"{name}_count"] = [], 0
    for row in rows:
        name = row["section"]
        found[f"{name}_count"] = row["total"]
        at = row["completed_at"] if name == "completed" else row["due_at"]
        found[name].append({"title": row["title"], "at": _time_label(at, zone)})
    return found


def _failed_runs(user_id: int, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    rows = list(
        run_failed_list(owner=user_id, since=now - timedelta(hours=24))
        .annotate(total=Window(Count("id")))
        .order_by("-finished_at", "-id")
        .values("total", "job__name", "finished_at", "error")[:LIST_LIMIT]
    )
    return {
        "failed_runs": [
            {
                "job": row["job__name"],
                "at": _time_label(row["finished_at"], zone),
                "error": _last_line(row["error"] or ""),
            }
            for row in rows
        ],
        "failed_runs_count": rows[0]["total"] if rows else 0,
    }


def _last_line(text: str) -> str:
    """A traceback's last line says what went wrong."""
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return zone_check(name)
    except ValueError:
        return ZoneInfo("UTC")


def _day_label(day: date) -> str:
    """Mon 30 Mar 2026"""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _time_label(at: datetime | None, zone: ZoneInfo) -> str:
    """Mon 30 Mar 09:00 CEST, in `zone`."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M %Z}"
