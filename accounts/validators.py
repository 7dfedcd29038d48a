from __future__ import annotations

from django.core.exceptions import ValidationError

from taskplatform.timezones import ZONES


def validate_timezone(value: str) -> None:
    """An IANA zone name such as `Europe/Paris` or `UTC`."""
    if value not in ZONES:
        raise ValidationError("%(value)s is not a known IANA time zone.", params={"value": value})
