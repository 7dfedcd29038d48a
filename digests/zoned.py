"""Wall-clock arithmetic in each row's own time zone, done by PostgreSQL (`AT TIME ZONE`).

Each user's digest hour is a wall-clock hour in their zone, so the instant it starts
depends on the zone's offset on that date: PostgreSQL's time-zone database works it out per
row, DST included. A wall-clock time that doesn't exist (02:30 on the night clocks go
forward) is taken as the same time after the jump (03:30); one that happens twice (02:30 on
the night they go back) as its standard-time, second, occurrence.
"""

from __future__ import annotations

from typing import Any

from django.db.models import DateField, DateTimeField, Func

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


class LocalDate(Func):
    """The date it is in `zone` at the instant `now`."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()

    def __init__(self, now: Any, zone: Any) -> None:
        super().__init__(now, zone)
