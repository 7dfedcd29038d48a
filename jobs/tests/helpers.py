"""Helpers for job tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from jobs import services
from jobs.schedules import INTERVAL, ONCE, Schedule, cron


def in_seconds(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def make_job(owner, *, kind="reminder", params=None, schedule=None, **kwargs):
    params = {"message": "Stand up"} if params is None and kind == "reminder" else params or {}
    if schedule == "interval":
        schedule = Schedule(INTERVAL, every=15, period="minutes")
    elif isinstance(schedule, str):
        schedule = cron(schedule)
    schedule = schedule or Schedule(ONCE, run_at=in_seconds(3600))
    kwargs.setdefault("name", f"{kind} job")
    return services.job_create(owner=owner, kind=kind, params=params, schedule=schedule, **kwargs)
