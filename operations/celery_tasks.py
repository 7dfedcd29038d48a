"""Thin Celery tasks of operations: the daily prune and the health watch."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from taskplatform.embedded_broker import delivered_delete

from .prune import Retention, prune
from .watch import health_watch


@shared_task(name="operations.prune", queue="maintenance", acks_late=True)
def prune_daily() -> dict:
    """Beat, daily at 02:00 UTC: retention with the PRUNE_* settings; on the embedded
    default, the broker's messages the worker has taken, too."""
    counts = prune(
        Retention(
            runs_days=settings.PRUNE_RUNS_DAYS,
            notifications_days=settings.PRUNE_NOTIFICATIONS_DAYS,
            tokens_days=settings.PRUNE_TOKENS_DAYS,
        )
    )
    if settings.EMBEDDED_BROKER:
        counts["broker_messages"] = delivered_delete()
    return counts


@shared_task(name="operations.health_watch", queue="maintenance", acks_late=True)
def watch() -> dict:
    """Beat, every 5 minutes: email ADMINS when the platform's health changes."""
    return health_watch()
