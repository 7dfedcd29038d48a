"""Reads of live events."""

from __future__ import annotations

from django.db.models import Max, Min

from .models import PUBLIC, LiveEvent


def events_after(*, user_id: int, after: int, limit: int) -> list[LiveEvent]:
    """The user's events (theirs and the public ones) with id > `after`, oldest first: one
    range of the (audience, id) index per audience."""
    return list(
        LiveEvent.objects.filter(audience__in=(user_id, PUBLIC), id__gt=after).order_by("id")[
            :limit
        ]
    )


def events_bounds() -> tuple[int, int]:
    """(oldest id kept, newest id), (0, 0) when there are none."""
    bounds = LiveEvent.objects.aggregate(oldest=Min("id"), newest=Max("id"))
    return bounds["oldest"] or 0, bounds["newest"] or 0


def events_new(*, after: int, also: list[int], limit: int) -> list[LiveEvent]:
    """Everyone's events with id > `after`, or among `also` (ids skipped earlier that may
    still commit), oldest first: the poller's read."""
    rows = LiveEvent.objects.filter(id__gt=after).order_by("id")[:limit]
    found = list(rows)
    if also:
        found += LiveEvent.objects.filter(id__in=also)
        found.sort(key=lambda event: event.pk)
    return found
