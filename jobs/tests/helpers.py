"""Helpers for job tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from jobs import services

from .factories import as_schedule


def in_seconds(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def make_job(owner, *, kind="reminder", params=None, schedule=None, **kwargs):
    """A job made by the service, as the API would (audit event, notify_on's notifications);
    `schedule` takes as_schedule's shorthands. JobFactory is the quicker way to a row.
    notify_on is failures only unless given (not the owner's preferences: no "created" mail)."""
    params = {"message": "Stand up"} if params is None and kind == "reminder" else params or {}
    kwargs.setdefault("name", f"{kind} job")
    kwargs.setdefault("notify_on", ["failed"])
    return services.job_create(
        owner=owner, kind=kind, params=params, schedule=as_schedule(schedule), **kwargs
    )
