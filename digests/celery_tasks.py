"""Thin Celery tasks of the digests app."""

from __future__ import annotations

from celery import shared_task

from .planning import digests_plan


@shared_task(name="digests.plan", queue="maintenance", acks_late=True)
def plan_digests() -> dict[str, int]:
    """Beat, every minute: queue the daily digests whose local hour has come."""
    return digests_plan()
