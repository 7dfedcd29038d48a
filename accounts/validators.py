from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA zone name such as `Europe/Paris` or `UTC`."""
    if value not in _zones():
        raise ValidationError("%(value)s is not a known IANA time zone.", params={"value": value})
