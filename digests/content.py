"""What a daily digest says, read when it is sent (the sender renders digests queued in
bulk): the tasks the user owns or is assigned that were completed on the day before the
digest's local date, that are due later that day and that are overdue, their jobs' runs
that failed in the last 24 hours, and the meetings of that local day they organize or take
part in (not cancelled, not declined). Times are shown in the user's time zone.

One query for a whole batch of digests (the sender loads a claimed batch at once) whatever
the users have: each list comes with its full count and at most LIST_LIMIT rows, so a user
with thousands of overdue tasks gets a short email that says how many there are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from jobs.models import Job, JobRun
from meetings.models import Meeting, Participant
from notifications.rendering import ContextGone
from taskplatform.timezones import zone_check
from tasks.models import Task

from .zoned import sqlite_moment

LIST_LIMIT = 20
SECTIONS = ("meetings", "overdue", "due_today", "completed", "failed_runs")


def digest_contexts_load(stored: list[dict[str, Any]]) -> list[dict[str, Any] | ContextGone]:
    """Each digest's content for its stored user and local date, from the data as it is now
    (one query for the whole batch); ContextGone for one that names no user, or has nothing
    to report and wasn't asked to be sent empty."""
    now = timezone.now()
    asked: list[tuple[int, date, ZoneInfo]] = []
    for one in stored:
        user_id = one.get("user_id")
        asked.append(
            (
                user_id if isinstance(user_id, int) else 0,
                date.fromisoformat(str(one.get("date"))),
                _zone(str(one.get("timezone") or "UTC")),
            )
        )
    found = _sections(asked, now)
    loaded: list[dict[str, Any] | ContextGone] = []
    for one, (user_id, day, zone), sections in zip(stored, asked, found, strict=True):
        if not user_id:
            loaded.append(ContextGone("the digest names no user"))
        elif not one.get("when_empty") and not any(sections[f"{n}_count"] for n in SECTIONS):
            loaded.append(ContextGone("nothing to report"))
        else:
            loaded.append({"date": _day_label(day), "timezone": zone.key, **sections})
    return loaded


# One statement for a batch of digests: every list of every digest, with each row's place in
# its list and the list's full count (rows past LIST_LIMIT are counted, not returned).
# Written out rather than built with the ORM (Django compiles a query with window functions
# anew on every call, ~20 ms of CPU); plain SQL that PostgreSQL and SQLite both run.
# `detail` is a run's error or a meeting's place; `until` a meeting's end (the other lists
# have none: a NULL typed as a time, since PostgreSQL types a UNION's columns pair by pair).
# A meeting's organizer is one of its participants (meetings.services keeps them so), so
# the meetings list starts from the user's participant rows, through their index.
DIGEST_SQL = """
WITH asked (n, user_id, yesterday, today, tomorrow) AS (VALUES {asked}),
found AS (
 SELECT a.n, 'overdue' AS section, t.title, t.due_at AS at, '' AS detail,
   CAST(NULL AS TIMESTAMP) AS until,
   row_number() OVER (PARTITION BY a.n ORDER BY t.due_at, t.id) AS place,
   count(*) OVER (PARTITION BY a.n) AS total
 FROM asked a JOIN {task} t ON (t.owner_id = a.user_id OR t.assignee_id = a.user_id)
 WHERE t.status <> 'done' AND t.due_at < %(now)s
 UNION ALL
 SELECT a.n, 'due_today', t.title, t.due_at, '', NULL,
   row_number() OVER (PARTITION BY a.n ORDER BY t.due_at, t.id), count(*) OVER (PARTITION BY a.n)
 FROM asked a JOIN {task} t ON (t.owner_id = a.user_id OR t.assignee_id = a.user_id)
 WHERE t.status <> 'done' AND t.due_at >= %(now)s AND t.due_at < a.tomorrow
 UNION ALL
 SELECT a.n, 'completed', t.title, t.completed_at, '', NULL,
   row_number() OVER (PARTITION BY a.n ORDER BY t.completed_at, t.id),
   count(*) OVER (PARTITION BY a.n)
 FROM asked a JOIN {task} t ON (t.owner_id = a.user_id OR t.assignee_id = a.user_id)
 WHERE t.status = 'done' AND t.completed_at >= a.yesterday AND t.completed_at < a.today
 UNION ALL
 SELECT a.n, 'failed_runs', j.name, r.finished_at, r.error, NULL,
   row_number() OVER (PARTITION BY a.n ORDER BY r.finished_at DESC, r.id DESC),
   count(*) OVER (PARTITION BY a.n)
 FROM asked a JOIN {job} j ON j.owner_id = a.user_id JOIN {run} r ON r.job_id = j.id
 WHERE r.status = 'failed' AND r.finished_at >= %(since)s
 UNION ALL
 SELECT a.n, 'meetings', m.title, m.starts_at,
   CASE WHEN m.location <> '' THEN m.location ELSE m.url END, m.ends_at,
   row_number() OVER (PARTITION BY a.n ORDER BY m.starts_at, m.id),
   count(*) OVER (PARTITION BY a.n)
 FROM asked a JOIN {participant} p ON p.user_id = a.user_id
   JOIN {meeting} m ON m.id = p.meeting_id
 WHERE m.status = 'scheduled' AND m.starts_at < a.tomorrow AND m.ends_at > a.today
   AND (p.response <> 'declined' OR m.organizer_id = a.user_id)
)
SELECT n, section, title, at, detail, until, total FROM found WHERE place <= %(limit)s
ORDER BY n, section, place
"""


def _sections(asked: list[tuple[int, date, ZoneInfo]], now: datetime) -> list[dict[str, Any]]:
    """Per (user, local date, zone): the tasks the user owns or is assigned (as
    tasks.selectors.task_digest_list) — overdue (open, due before now), due today (open, due
    from now to the local midnight), completed yesterday (done, completed in the local day
    before the date) — and the runs of their jobs that failed for good in the last 24 hours
    (as jobs.selectors.run_failed_list), and the scheduled meetings overlapping the local day
    that they organize or haven't declined (as meetings.selectors.meeting_digest_list)."""
    found: list[dict[str, Any]] = []
    for _ in asked:
        empty: dict[str, Any] = {}
        for name in SECTIONS:
            empty[name], empty[f"{name}_count"] = [], 0
        found.append(empty)
    if not asked:
        return found
    ops = connection.ops
    params: dict[str, Any] = {
        "now": ops.adapt_datetimefield_value(now),
        "since": ops.adapt_datetimefield_value(now - timedelta(hours=24)),
        "limit": LIST_LIMIT,
    }
    rows = []
    for n, (user_id, day, zone) in enumerate(asked):
        days = {"y": day - timedelta(days=1), "t": day, "m": day + timedelta(days=1)}
        params[f"u{n}"] = user_id
        for key, when in days.items():
            params[f"{key}{n}"] = ops.adapt_datetimefield_value(_midnight(when, zone))
        rows.append(f"({n}, %(u{n})s, %(y{n})s, %(t{n})s, %(m{n})s)")
    quote = ops.quote_name
    sql = DIGEST_SQL.format(
        asked=", ".join(rows),
        task=quote(Task._meta.db_table),
        run=quote(JobRun._meta.db_table),
        job=quote(Job._meta.db_table),
        meeting=quote(Meeting._meta.db_table),
        participant=quote(Participant._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for n, name, title, at, detail, until, total in cursor.fetchall():
            zone = asked[n][2]
            sections = found[n]
            sections[f"{name}_count"] = total
            label = _time_label(sqlite_moment(at), zone)
            item = {"title": title, "at": label}
            if name == "failed_runs":
                item = {"job": title, "at": label, "error": _last_line(detail)}
            elif name == "meetings":
                item["until"] = _until_label(sqlite_moment(at), sqlite_moment(until), zone)
                item["where"] = detail
            sections[name].append(item)
    return found


def _until_label(start: datetime | None, end: datetime | None, zone: ZoneInfo) -> str:
    """10:00 when the meeting ends the day it starts, else the whole Tue 2 Jun 10:00 CEST."""
    if start is None or end is None:
        return ""
    if start.astimezone(zone).date() == end.astimezone(zone).date():
        return f"{end.astimezone(zone):%H:%M}"
    return _time_label(end, zone)


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
