"""Input fields whose values are checked strictly before any parser sees them.

Python's `datetime.fromisoformat` (which Django's `parse_datetime` tries first) stops
reading at a NUL byte and takes any character between date and time, so
"2026-01-01T00:00:00\\x00junk" was accepted as a valid time. Only the characters ISO 8601
uses get through to the parser here, and every error a parser raises becomes a 400.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.utils import humanize_datetime

# digits, separators, "T", "Z" and offsets: "2026-12-01T09:00:00.5+01:00", "…Z", "… 09:00"
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9][0-9:.,+\-TtZz ]{1,40}")


def looks_like_iso_datetime(value: str) -> bool:
    return bool(_ISO_DATETIME.fullmatch(value.strip()))


def parse_iso_datetime(value: str) -> datetime | None:
    """The parsed time, or None for text that isn't a possible ISO 8601 date-time
    (month 13, February 30, hour 25, year 0, an offset of a day or more, stray bytes)."""
    if not isinstance(value, str) or not looks_like_iso_datetime(value):
        return None
    try:
        return parse_datetime(value.strip())
    except (ValueError, OverflowError):
        return None


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing text that only Python's lenient parser would accept."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not looks_like_iso_datetime(value):
            formats = getattr(self, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
            self.fail("invalid", format=humanize_datetime.datetime_formats(formats))
        return super().to_internal_value(value)


def iso_utc(value: datetime | None) -> str | None:
    """DRF's DateTimeField output: ISO 8601 in UTC, "Z" for the offset."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
