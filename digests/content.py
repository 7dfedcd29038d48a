"""What a daily digest says, read when it is sent (the sender renders digests queued in
bulk): the tasks the user owns or is assigned that were completed on the day before the
digest's local date, that are due later that day and that are overdue, and their jobs' runs
that failed in the last 24 hours. Times are shown in the user's time zone.

One query whatever the user has: each list comes with its full count and at most
LIST_LIMIT rows, so a user with thousands of overdue tasks gets a short email that says how
many there are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from jobs.models import Job, JobRun
from notifications.rendering import ContextGone
from taskplatform.timezones import zone_check
from tasks.models import Task

LIST_LIMIT = 20
SECTIONS = ("overdue", "due_today", "completed", "failed_runs")


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
        **_sections(user_id, day, zone, now),
    }
    if not stored.get("when_empty") and not any(content[f"{name}_count"] for name in SECTIONS):
        raise ContextGone("nothing to report")
    return content


# One statement for every list, with the place of each row and its list's full count.
# Written out rather than built with the ORM: Django compiles a query with window functions
# anew on every call (~20 ms of CPU per digest, ten times the query itself), and the senders
# render every digest at send time.
DIGEST_SQL = """
(SELECT 'overdue' AS section, title, due_at AS at, '' AS error, count(*) OVER () AS total
 FROM {task} WHERE (owner_id = %(user)s OR assignee_id = %(user)s)
   AND status <> 'done' AND due_at < %(now)s
 ORDER BY due_at, id LIMIT %(limit)s)
UNION ALL
(SELECT 'due_today', title, due_at, '', count(*) OVER ()
 FROM {task} WHERE (owner_id = %(user)s OR assignee_id = %(user)s)
   AND status <> 'done' AND due_at >= %(now)s AND due_at < %(tomorrow)s
 ORDER BY due_at, id LIMIT %(limit)s)
UNION ALL
(SELECT 'completed', title, completed_at, '', count(*) OVER ()
 FROM {task} WHERE (owner_id = %(user)s OR assignee_id = %(user)s)
   AND status = 'done' AND completed_at >= %(yesterday)s AND completed_at < %(today)s
 ORDER BY completed_at, id LIMIT %(limit)s)
UNION ALL
(SELECT 'failed_runs', j.name, r.finished_at, r.error, count(*) OVER ()
 FROM {run} r JOIN {job} j ON j.id = r.job_id
 WHERE j.owner_id = %(user)s AND r.status = 'failed' AND r.finished_at >= %(since)s
 ORDER BY r.finished_at DESC, r.id DESC LIMIT %(limit)s)
"""


def _sections(user_id: int, day: date, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The tasks the user owns or is assigned (as tasks.selectors.task_digest_list): overdue
    (open, due before now), due today (open, due from now to the local midnight), completed
    yesterday (done, completed in the local day before `day`); and the runs of their jobs
    that failed for good in the last 24 hours (as jobs.selectors.run_failed_list)."""
    quote = connection.ops.quote_name
    sql = DIGEST_SQL.format(
        task=quote(Task._meta.db_table),
        run=quote(JobRun._meta.db_table),
        job=quote(Job._meta.db_table),
    )
    params: dict[str, Any] = {
        "user": user_id,
        "now": now,
        "yesterday": _midnight(day - timedelta(days=1), zone),
        "today": _midnight(day, zone),
        "tomorrow": _midnight(day + timedelta(days=1), zone),
        "since": now - timedelta(hours=24),
        "limit": LIST_LIMIT,
    }
    found: dict[str, Any] = {}
    for name in SECTIONS:
        found[name], found[f"{name}_count"] = [], 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for name, title, at, error, total in cursor.fetchall():
            found[f"{name}_count"] = total
            item = {"title": title, "at": _time_label(at, zone)}
            if name == "failed_runs":
                item = {"job": title, "at": item["at"], "error": _last_line(error)}
            found[name].append(item)
    return found


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
