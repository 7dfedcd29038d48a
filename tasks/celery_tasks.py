"""Thin Celery tasks of the tasks app."""

from __future__ import annotations

from celery import shared_task

from .due_soon import due_soon_reminders_queue


@shared_task(name="tasks.due_soon_sweep", queue="maintenance", acks_late=True)
def due_soon_sweep() -> int:
    """Beat, every 5 minutes: queue one due-soon email per (task, due date)."""
    return due_soon_reminders_queue()
