"""Wall-clock arithmetic in each row's own time zone, done by the database.

Each user's digest hour is a wall-clock hour in their zone, so the instant it starts
depends on the zone's offset on that date. PostgreSQL's time-zone database works it out per
row (`AT TIME ZONE`), DST included; on SQLite (the embedded default) the same arithmetic is
a Python function registered on each connection (`sqlite_functions_register`), using
zoneinfo. Both agree: a wall-clock time that doesn't exist (02:30 on the night clocks go
forward) is taken as the same time after the jump (03:30); one that happens twice (02:30 on
the night they go back) as its standard-time, second, occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import DateField, DateTimeField, Func
from django.utils.dateparse import parse_datetime

# the instant `hours` hours past the local midnight `days` days after the local date of `now`
INSTANT_SQL = (
    "((date_trunc('day', {now} AT TIME ZONE {zone}) + make_interval(days => {days}, "
    "hours => {hours})) AT TIME ZONE {zone})"
)


class ZonedInstant(Func):
    """The instant (timestamptz) that is `hours` o'clock in `zone` on the local date of
    `now`, `days` later."""

    output_field = DateTimeField()

    def __init__(self, now: Any, zone: Any, hours: Any, *, days: int = 0) -> None:
        super().__init__(now, zone, hours)
        self.days = int(days)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (now, now_params), (zone, zone_params), (hours, hours_params) = compiled
        sql = INSTANT_SQL.format(now=now, zone=zone, days=self.days, hours=hours)
        return sql, (*now_params, *zone_params, *hours_params, *zone_params)

    def as_sqlite(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (now, now_params), (zone, zone_params), (hours, hours_params) = compiled
        sql = f"tp_zoned_instant({now}, {zone}, {self.days}, {hours})"
        return sql, (*now_params, *zone_params, *hours_params)


class LocalDate(Func):
    """The date it is in `zone` at the instant `now`."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()

    def __init__(self, now: Any, zone: Any) -> None:
        super().__init__(now, zone)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="tp_local_date(%(expressions)s)", arg_joiner=", "
        )


def zoned_instant(now: datetime, zone: ZoneInfo, *, days: int, hours: int) -> datetime:
    """Python's ZonedInstant (aware, UTC), with PostgreSQL's answer for the times DST skips
    or repeats."""
    local_day = now.astimezone(zone).date() + timedelta(days=days)
    wall = datetime.combine(local_day, time.min) + timedelta(hours=hours)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    repeated = first.astimezone(zone).replace(tzinfo=None) == wall
    return second if repeated else first  # repeated: the second; skipped: after the jump


def sqlite_functions_register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: tp_zoned_instant() and tp_local_date() for SQLite,
    on the values as Django stores them there (naive UTC text)."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        "tp_zoned_instant", 4, _sqlite_zoned_instant, deterministic=True
    )
    connection.connection.create_function(
        "tp_local_date", 2, _sqlite_local_date, deterministic=True
    )


def _sqlite_zoned_instant(now: str | None, zone: str | None, days: int, hours: int) -> str | None:
    moment = sqlite_moment(now)
    if moment is None or zone is None or hours is None:
        return None
    at = zoned_instant(moment, ZoneInfo(zone), days=int(days), hours=int(hours))
    return at.replace(tzinfo=None).isoformat(" ")


def _sqlite_local_date(now: str | None, zone: str | None) -> str | None:
    moment = sqlite_moment(now)
    if moment is None or zone is None:
        return None
    local: date = moment.astimezone(ZoneInfo(zone)).date()
    return local.isoformat()


def sqlite_moment(value: datetime | str | None) -> datetime | None:
    """A timestamp as a raw cursor gives it: SQLite's naive UTC text made an aware datetime
    (PostgreSQL's, already one, as it is)."""
    if not isinstance(value, str):
        return value
    parsed = parse_datetime(value) if value else None
    return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed
