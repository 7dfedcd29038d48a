"""The IANA time zones the platform accepts: one set, for job schedules, user profiles and
the admin's choices."""

from __future__ import annotations

import zoneinfo

# read once: available_timezones() walks the time-zone database on disk (~40 ms a call)
ZONES: frozenset[str] = frozenset(zoneinfo.available_timezones())
# for a form's select, alphabetical
CHOICES: list[tuple[str, str]] = [(name, name) for name in sorted(ZONES)]


def zone_check(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name`, or ValueError. Only names in ZONES are opened, so a path
    ("../etc/passwd") or a NUL never reaches the time-zone database."""
    if name not in ZONES:
        raise ValueError(f'"{name}" is not an IANA time zone.')
    return zoneinfo.ZoneInfo(name)
