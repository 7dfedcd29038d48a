"""Schedule maths: cron in time zones across DST changes, intervals, one-offs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.schedules import (
    CRON,
    INTERVAL,
    MAX_EVERY,
    NO_OFFSET,
    ONCE,
    Schedule,
    ScheduleError,
    cron,
    next_after,
    schedule_check,
    shortest_gap,
    upcoming,
)
from taskplatform.timezones import zone_check

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_keeps_local_time_across_the_autumn_change():
    # 09:00 in Berlin is 07:00 UTC in summer time and 08:00 UTC after 25 Oct 2026
    times = upcoming(
        cron("0 9 * * *"), BERLIN, next_after(cron("0 9 * * *"), BERLIN, utc(2026, 10, 23, 12))
    )
    assert times[:3] == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)]


def test_cron_keeps_local_time_across_the_spring_change_in_new_york():
    first = next_after(cron("30 8 * * *"), NEW_YORK, utc(2026, 3, 7, 20))
    times = upcoming(cron("30 8 * * *"), NEW_YORK, first, 3)
    # EST (UTC-5) until 8 March 2026, then EDT (UTC-4)
    assert times == [utc(2026, 3, 8, 12, 30), utc(2026, 3, 9, 12, 30), utc(2026, 3, 10, 12, 30)]


def test_a_time_skipped_by_dst_runs_once_just_after_the_gap():
    # 02:30 does not exist in Berlin on 29 March 2026 (02:00 -> 03:00)
    run = next_after(cron("30 2 * * *"), BERLIN, utc(2026, 3, 28, 12))
    assert run == utc(2026, 3, 29, 1, 0)  # 03:00 CEST


def test_a_repeated_hour_runs_once():
    # 02:30 happens twice in Berlin on 25 October 2026: one run, then the next day
    first = next_after(cron("30 2 * * *"), BERLIN, utc(2026, 10, 24, 12))
    second = next_after(cron("30 2 * * *"), BERLIN, first)
    assert first == utc(2026, 10, 25, 0, 30)
    assert second == utc(2026, 10, 26, 1, 30)


def test_weekday_cron_skips_the_weekend():
    first = next_after(cron("0 9 * * 1-5"), UTC, utc(2026, 11, 20, 10))  # a Friday
    assert first == utc(2026, 11, 23, 9)  # Monday


@pytest.mark.parametrize(
    "expression",
    ["61 * * * *", "* * *", "a b c d e", "0 9 * * 1-5 extra", "0 9 L * *", "", "0 24 * * *"],
)
def test_bad_cron_expressions_are_refused(expression):
    with pytest.raises(ScheduleError):
        cron(expression)


def test_interval_keeps_its_phase_and_collapses_missed_slots():
    every_15 = Schedule(INTERVAL, every=15, period="minutes")
    anchor = utc(2026, 1, 1, 12, 0)
    # two hours late: one catch-up run, the next slot is on the original grid
    assert next_after(every_15, UTC, utc(2026, 1, 1, 14, 7), anchor=anchor) == utc(
        2026, 1, 1, 14, 15
    )
    assert next_after(every_15, UTC, utc(2026, 1, 1, 12, 0), anchor=anchor) == utc(
        2026, 1, 1, 12, 15
    )
    assert next_after(every_15, UTC, utc(2026, 1, 1, 12, 0)) == utc(2026, 1, 1, 12, 15)
    hourly = Schedule(INTERVAL, every=2, period="hours")
    assert upcoming(hourly, UTC, anchor, 3) == [
        anchor,
        anchor + timedelta(hours=2),
        anchor + timedelta(hours=4),
    ]


def test_once_runs_once():
    at = utc(2030, 1, 1)
    once = Schedule(ONCE, run_at=at)
    assert next_after(once, UTC, utc(2029, 1, 1)) == at
    assert next_after(once, UTC, at) is None
    assert upcoming(once, UTC, at) == [at]


def test_unknown_time_zones_are_refused():
    assert zone_check("Europe/Berlin") == BERLIN
    for name in ["Mars/Olympus", "", "../etc/passwd", "UTC\x00"]:
        with pytest.raises(ValueError, match="is not an IANA time zone"):
            zone_check(name)


def test_schedules_render_back_to_the_api_shape():
    assert cron(" 0  9 * * 1-5 ").as_dict() == {"type": CRON, "expression": "0 9 * * 1-5"}
    assert Schedule(ONCE, run_at=utc(2030, 1, 1)).as_dict() == {
        "type": ONCE,
        "run_at": "2030-01-01T00:00:00+00:00",
    }


def test_schedule_check_makes_schedules_canonical():
    paris = datetime(2030, 1, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
    assert schedule_check(Schedule(ONCE, run_at=paris)) == Schedule(ONCE, run_at=utc(2030, 1, 1, 9))
    assert schedule_check(Schedule(ONCE, run_at=paris)).run_at.tzinfo is UTC
    assert schedule_check(Schedule(CRON, expression=" 0  9 * * 1-5 ")) == cron("0 9 * * 1-5")
    every_2h = Schedule(INTERVAL, every=2, period="hours")
    assert schedule_check(every_2h) == every_2h


@pytest.mark.parametrize(
    ("schedule", "errors"),
    [
        (Schedule("weekly"), {"type": ['"weekly" is not a valid choice.']}),
        (Schedule(ONCE), {"run_at": ["Required for this type."]}),
        (
            Schedule(INTERVAL),
            {"every": ["Required for this type."], "period": ["Required for this type."]},
        ),
        (Schedule(CRON, expression=""), {"expression": ["Required for this type."]}),
        (
            Schedule(ONCE, run_at=datetime(2030, 1, 1, 9)),  # naive
            {"run_at": [NO_OFFSET]},
        ),
        (
            Schedule(INTERVAL, every=0, period="seconds"),
            {
                "every": ["Ensure this value is greater than or equal to 1."],
                "period": ['"seconds" is not a valid choice.'],
            },
        ),
        (
            Schedule(INTERVAL, every=MAX_EVERY + 1, period="days"),
            {"every": [f"Ensure this value is less than or equal to {MAX_EVERY}."]},
        ),
        (
            Schedule(CRON, expression="61 * * * *"),
            {"expression": ["Not a valid cron expression: Bad minute"]},
        ),
    ],
)
def test_schedule_check_names_every_problem(schedule, errors):
    with pytest.raises(ScheduleError) as caught:
        schedule_check(schedule)
    assert caught.value.errors == errors


def test_the_platform_has_one_time_zone_set():
    from accounts import validators
    from jobs import forms
    from taskplatform import timezones

    assert validators.ZONES is timezones.ZONES
    assert forms.ZONE_CHOICES is timezones.CHOICES
    assert {name for name, _ in timezones.CHOICES} == timezones.ZONES
    # and nobody reads the tz database's list on their own
    root = Path(__file__).resolve().parents[2]
    readers = {
        str(path.relative_to(root))
        for app in ("accounts", "audit", "files", "jobs", "notifications", "operations", "tasks")
        for path in (root / app).rglob("*.py")
        if "available_timezones" in path.read_text() and "tests" not in path.parts
    }
    assert readers == set()


# --- the shortest gap between two runs (the mailing-job quota's measure) ----------------------


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("* * * * *", 60),
        ("0,1 9 * * *", 60),
        ("*/10 * * * *", 600),
        ("0 9 * * *", 86400),
        ("0 9 * * 1-5", 86400),
        ("59 23 * * 1", 7 * 86400),
        # every minute on the 1st, every minute on 29 February: found from today's date
        ("* * 1 * *", 60),
        ("* * 29 2 *", 60),
        # the last run of the 1st and the first of the 2nd
        ("0,59 0,23 1,2 * *", 60),
    ],
)
def test_shortest_gap_of_cron_expressions(expression, seconds):
    gap = shortest_gap(cron(expression), zone_check("UTC"), utc(2026, 11, 5, 12))
    assert gap == timedelta(seconds=seconds)


def test_shortest_gap_is_real_time_across_a_dst_change():
    # 01:55 and 03:00 are 65 minutes apart on the clock, 5 on the night Berlin skips 02:00-03:00
    every_day = cron("0,55 1,3 * * *")
    assert shortest_gap(every_day, BERLIN, utc(2026, 3, 27, 12)) == timedelta(minutes=5)
    assert shortest_gap(every_day, BERLIN, utc(2026, 5, 1)) == timedelta(minutes=55)
    # a daily run is 23 hours from the one before on that night
    assert shortest_gap(cron("0 9 * * *"), BERLIN, utc(2026, 3, 27, 12)) == timedelta(hours=23)


def test_shortest_gap_of_intervals_and_one_offs():
    now = utc(2026, 11, 5, 12)
    assert shortest_gap(Schedule(INTERVAL, every=2, period="hours"), BERLIN, now) == timedelta(
        hours=2
    )
    assert shortest_gap(Schedule(ONCE, run_at=utc(2027, 1, 1)), BERLIN, now) is None
    assert shortest_gap(cron("0 9 1 1 *"), BERLIN, now) is None  # once in the 8 days looked at
