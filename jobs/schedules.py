"""Schedule maths: the API's schedule dicts, django-celery-beat's rows, and next run times.

A schedule is `{"type": "once", "run_at": ...}`, `{"type": "interval", "every": 15,
"period": "minutes"}` or `{"type": "cron", "expression": "0 9 * * 1-5"}`; cron expressions
are evaluated in the job's IANA time zone with cronsim (DST-correct: a time that doesn't
exist runs at the first minute after the gap, a repeated one runs once).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery.schedules import crontab as celery_crontab
from cronsim import CronSim, CronSimError
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule

ONCE, INTERVAL, CRON = "once", "interval", "cron"
TYPES = (ONCE, INTERVAL, CRON)
PERIODS = {"minutes": 60, "hours": 3600, "days": 86400}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
MAX_EVERY = 100_000  # at most 100,000 days (~274 years): run times stay far from year 9999
REQUIRED = {ONCE: ("run_at",), INTERVAL: ("every", "period"), CRON: ("expression",)}
NO_OFFSET = "Give the time zone offset (e.g. 2026-12-01T09:00:00+01:00 or …Z)."


class ScheduleError(ValueError):
    """A schedule that can't be used: `errors` maps each offending key to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(" ".join(line for lines in errors.values() for line in lines))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> ScheduleError:
        return cls({field: [message]})


@dataclass(frozen=True)
class Schedule:
    type: str
    run_at: datetime | None = None
    every: int | None = None
    period: str | None = None
    expression: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.type == ONCE:
            return {"type": ONCE, "run_at": self.when.astimezone(UTC).isoformat()}
        if self.type == INTERVAL:
            return {"type": INTERVAL, "every": self.every, "period": self.period}
        return {"type": CRON, "expression": self.expression}

    # each type's own values, for code that has checked the type (None would be a bug)

    @property
    def when(self) -> datetime:
        if self.run_at is None:
            raise TypeError(f"A {self.type} schedule has no run_at.")
        return self.run_at

    @property
    def step(self) -> timedelta:
        if self.every is None or self.period is None:
            raise TypeError(f"A {self.type} schedule has no step.")
        return timedelta(seconds=self.every * PERIODS[self.period])

    @property
    def fields(self) -> list[str]:
        """A cron schedule's five fields."""
        if self.expression is None:
            raise TypeError(f"A {self.type} schedule has no cron expression.")
        return self.expression.split()


def schedule_check(schedule: Schedule) -> Schedule:
    """The schedule made canonical (a one-off's time in UTC, a cron expression's spacing),
    or ScheduleError with every problem found. Whether a one-off is still in the future is
    the caller's question (`next_after` answers None)."""
    if schedule.type not in TYPES:
        raise ScheduleError.one("type", f'"{schedule.type}" is not a valid choice.')
    missing = [name for name in REQUIRED[schedule.type] if getattr(schedule, name) in (None, "")]
    if missing:
        raise ScheduleError({name: ["Required for this type."] for name in missing})
    if schedule.type == INTERVAL:
        return _interval_check(schedule.every, schedule.period)
    if schedule.type == CRON:
        return cron(str(schedule.expression))
    run_at = schedule.run_at
    if not isinstance(run_at, datetime) or run_at.tzinfo is None:
        raise ScheduleError.one("run_at", NO_OFFSET)
    try:
        return Schedule(ONCE, run_at=run_at.astimezone(UTC))
    except OverflowError:
        raise ScheduleError.one("run_at", "Out of range.") from None


def _interval_check(every: int | None, period: str | None) -> Schedule:
    # the API's serializer declares the same bounds (for its schema) and refuses first, in
    # the same words; the admin and the CLI get these
    errors: dict[str, list[str]] = {}
    if not isinstance(every, int) or isinstance(every, bool):
        errors["every"] = ["A valid integer is required."]
    elif every < 1:
        errors["every"] = ["Ensure this value is greater than or equal to 1."]
    elif every > MAX_EVERY:
        errors["every"] = [f"Ensure this value is less than or equal to {MAX_EVERY}."]
    if period not in PERIODS:
        errors["period"] = [f'"{period}" is not a valid choice.']
    if errors:
        raise ScheduleError(errors)
    return Schedule(INTERVAL, every=every, period=period)


def cron(expression: str) -> Schedule:
    """A validated 5-field cron schedule (cronsim and Celery's crontab both accept it)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError.one("expression", "A cron expression has 5 fields: m h dom mon dow.")
    try:
        CronSim(" ".join(fields), datetime(2000, 1, 1, tzinfo=UTC))
        celery_crontab(**dict(zip(CRON_FIELDS, fields, strict=True)))
    except (CronSimError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise ScheduleError.one("expression", f"Not a valid cron expression: {exc}") from None
    for name, value in zip(CRON_FIELDS, fields, strict=True):
        if len(value) > CrontabSchedule._meta.get_field(name).max_length:
            raise ScheduleError.one("expression", f"The {name} field is too long.")
    return Schedule(CRON, expression=" ".join(fields))


def next_after(schedule: Schedule, tz: zoneinfo.ZoneInfo, after: datetime, *, anchor=None):
    """The first run time strictly after `after`, or None when the schedule is over.

    Intervals keep their phase: with `anchor` (a previous slot) the result is
    anchor + k * step, so missed slots collapse into one catch-up run.
    """
    if schedule.type == ONCE:
        if anchor is not None and anchor >= schedule.when:
            return None  # its one slot has been dispatched
        return schedule.when if schedule.when > after else None
    if schedule.type == INTERVAL:
        step = schedule.step
        if anchor is None:
            return after + step
        if anchor > after:
            return anchor
        return anchor + step * ((after - anchor) // step + 1)
    local = after.astimezone(tz).replace(second=0, microsecond=0)
    for candidate in CronSim(" ".join(schedule.fields), local):
        if candidate > after:
            return candidate.astimezone(UTC)
    return None  # pragma: no cover - cronsim iterates without end


# How far ahead a cron schedule's runs are looked at for its shortest gap: the 8 days from
# its first run (every weekday and the wrap from one week to the next; a schedule keeps the
# same times of day on every day it runs, so the first day shows them all) or 2,000 runs,
# whichever comes first (2,000 runs in under 8 days are less than 6 minutes apart on average,
# so the gap seen is already that short). Starting at the first run, not at now, catches
# "* * 1 * *" (every minute on the 1st) created on the 5th.
GAP_HORIZON = timedelta(days=8)
GAP_HORIZON_RUNS = 2000


def shortest_gap(schedule: Schedule, tz: zoneinfo.ZoneInfo, after: datetime) -> timedelta | None:
    """The shortest time between two consecutive runs: an interval's step, the least a cron
    expression leaves between two runs (in real time, in `tz`) within GAP_HORIZON of its
    first run after `after`; None for a one-off (or a cron expression that runs once in
    that time, like "0 9 1 1 *")."""
    if schedule.type == ONCE:
        return None
    if schedule.type == INTERVAL:
        return schedule.step
    local = after.astimezone(tz).replace(second=0, microsecond=0)
    runs = (run.astimezone(UTC) for run in CronSim(" ".join(schedule.fields), local))
    previous = next(runs, None)  # cronsim stops when nothing matches for 50 years
    if previous is None:
        return None
    end, shortest = previous + GAP_HORIZON, None
    for _ in range(GAP_HORIZON_RUNS - 1):
        run = next(runs, None)
        if run is None or run > end:
            break
        gap = run - previous  # in UTC: the real time between them, DST changes included
        shortest = gap if shortest is None else min(shortest, gap)
        previous = run
    return shortest


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
        return none | {"clocked": _row(ClockedSchedule, clocked_time=schedule.when)}
    if schedule.type == INTERVAL:
        row = _row(IntervalSchedule, every=schedule.every, period=schedule.period)
        return none | {"interval": row}
    fields = dict(zip(CRON_FIELDS, schedule.fields, strict=True))
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
