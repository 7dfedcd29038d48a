"""`{{ when|local_time }}` in the email templates: "Mon 1 Dec 09:00 CET", in the time zone the
email is rendered in (the recipient's: notifications/rendering.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import dateformat

register = template.Library()

FORMAT = "D j M H:i T"  # Mon 1 Dec 09:00 CET


@register.filter(expects_localtime=True)
def local_time(value: Any) -> Any:
    """A datetime, converted to the current time zone (expects_localtime) and formatted;
    anything else (a date already written out, None) as it is."""
    if isinstance(value, datetime):
        return dateformat.format(value, FORMAT)
    return value
