"""django-filter types whose values are checked before they reach the database.

A value the database can't hold (an id past BIGINT, a time with an offset PostgreSQL
rejects) must be a 400, never a 500.
"""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from .converters import MAX_ID
from .fields import looks_like_iso_datetime


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number from 1 to 2**63-1."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        # only ISO 8601's characters: Python's parser would take "…T00:00\x00junk"
        if isinstance(value, str) and value.strip() and not looks_like_iso_datetime(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError:
            raise ValidationError("This date and time is out of range.", code="invalid") from None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC."""

    field_class = UtcDateTimeField


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Comma-separated choices, as docs/api.md's multi-value filters: `?status=todo,done`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)
