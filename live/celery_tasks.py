"""Thin Celery tasks of live updates: the retention sweep."""

from __future__ import annotations

from celery import shared_task

from .services import live_prune


@shared_task(name="live.prune_events", queue="maintenance", acks_late=True)
def prune_events() -> int:
    """Beat, every hour: events older than LIVE_RETENTION_HOURS go."""
    return live_prune()
