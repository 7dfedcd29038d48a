"""Thin Celery tasks of the tasks app."""

from __future__ import annotations

from celery import shared_task

from .due_soon import task_due_soon_sweep


@shared_task(name="tasks.due_soon_sweep", queue="maintenance", acks_late=True)
def due_soon_sweep() -> int:
    """Beat, every 5 minutes: queue one due-soon email per (task, due date)."""
    return task_due_soon_sweep()
