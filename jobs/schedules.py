"""Schedule maths: the API's schedule dicts, django-celery-beat's rows, and next run times.

A schedule is `{"type": "once", "run_at": ...}`, `{"type": "interval", "every": 15,
"period": "minutes"}` or `{"type": "cron", "expression": "0 9 * * 1-5"}`; cron expressions
are evaluated in the job's IANA time zone with cronsim (DST-correct: a time that doesn't
exist runs at the first minute after the gap, a repeated one runs once).
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery.schedules import crontab as celery_crontab
from cronsim import CronSim, CronSimError
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule

ONCE, INTERVAL, CRON = "once", "interval", "cron"
PERIODS = {"minutes": 60, "hours": 3600, "days": 86400}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


class ScheduleError(ValueError):
    """A schedule that can't be used; `field` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@functools.cache
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> zoneinfo.ZoneInfo:
    if name not in timezones():
        raise ScheduleError("timezone", f'"{name}" is not an IANA time zone.')
    return zoneinfo.ZoneInfo(name)


@dataclass(frozen=True)
class Schedule:
    type: str
    run_at: datetime | None = None
    every: int | None = None
    period: str | None = None
    expression: str | None = None

    def as_dict(self) -> dict:
        if self.type == ONCE:
            return {"type": ONCE, "run_at": self.run_at.astimezone(UTC).isoformat()}
        if self.type == INTERVAL:
            return {"type": INTERVAL, "every": self.every, "period": self.period}
        return {"type": CRON, "expression": self.expression}

    @property
    def step(self) -> timedelta:
        return timedelta(seconds=self.every * PERIODS[self.period])


def cron(expression: str) -> Schedule:
    """A validated 5-field cron schedule (cronsim and Celery's crontab both accept it)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError("expression", "A cron expression has 5 fields: m h dom mon dow.")
    try:
        CronSim(" ".join(fields), datetime(2000, 1, 1, tzinfo=UTC))
        celery_crontab(**dict(zip(CRON_FIELDS, fields, strict=True)))
    except (CronSimError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise ScheduleError("expression", f"Not a valid cron expression: {exc}") from None
    for name, value in zip(CRON_FIELDS, fields, strict=True):
        if len(value) > CrontabSchedule._meta.get_field(name).max_length:
            raise ScheduleError("expression", f"The {name} field is too long.")
    return Schedule(CRON, expression=" ".join(fields))


def next_after(schedule: Schedule, tz: zoneinfo.ZoneInfo, after: datetime, *, anchor=None):
    """The first run time strictly after `after`, or None when the schedule is over.

    Intervals keep their phase: with `anchor` (a previous slot) the result is
    anchor + k * step, so missed slots collapse into one catch-up run.
    """
    if schedule.type == ONCE:
        if anchor is not None and anchor >= schedule.run_at:
            return None  # its one slot has been dispatched
        return schedule.run_at if schedule.run_at > after else None
    if schedule.type == INTERVAL:
        step = schedule.step
        if anchor is None:
            return after + step
        if anchor > after:
            return anchor
        return anchor + step * ((after - anchor) // step + 1)
    local = after.astimezone(tz).replace(second=0, microsecond=0)
    for candidate in CronSim(schedule.expression, local):
        if candidate > after:
            return candidate.astimezone(UTC)
    return None  # pragma: no cover - cronsim iterates without end


def upcoming(schedule: Schedule, tz, start: datetime | None, count: int = 5) -> list[datetime]:
    """`start` (the job's next run) and the runs after it."""
    times: list[datetime] = []
    current = start
    while current is not None and len(times) < count:
        times.append(current)
        current = next_after(schedule, tz, current, anchor=current)
    return times


# --- django-celery-beat rows ------------------------------------------------------------------


def beat_row(schedule: Schedule, tz_name: str) -> dict:
    """The Job fields pointing at this schedule's row (shared rows are reused).

    The beat tables have no unique constraints (operators add rows in the admin too), so
    the first matching row is taken rather than get_or_create, which fails on duplicates.
    """
    none = {"crontab": None, "interval": None, "clocked": None}
    if schedule.type == ONCE:
        return none | {"clocked": _row(ClockedSchedule, clocked_time=schedule.run_at)}
    if schedule.type == INTERVAL:
        row = _row(IntervalSchedule, every=schedule.every, period=schedule.period)
        return none | {"interval": row}
    fields = dict(zip(CRON_FIELDS, schedule.expression.split(), strict=True))
    return none | {"crontab": _row(CrontabSchedule, timezone=tz_name, **fields)}


def _row(model, **fields):
    row = model.objects.filter(**fields).order_by("id").first()
    return row or model.objects.create(**fields)


def from_job(job) -> Schedule:
    """The schedule a job's beat row holds (with `select_related` this costs no query)."""
    if job.clocked_id:
        return Schedule(ONCE, run_at=job.clocked.clocked_time)
    if job.interval_id:
        row = job.interval
        if row.period in PERIODS:
            return Schedule(INTERVAL, every=row.every, period=row.period)
        # a row an operator made in seconds: shown in whole minutes (at least one)
        seconds = row.every if row.period == IntervalSchedule.SECONDS else 0
        return Schedule(INTERVAL, every=max(1, seconds // 60), period="minutes")
    row = job.crontab
    expression = " ".join(str(getattr(row, name)) for name in CRON_FIELDS)
    return Schedule(CRON, expression=expression)
