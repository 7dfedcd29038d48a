"""Platform upkeep as django-celery-beat PeriodicTask rows, created by data migrations.

Rows (not code) so operators see and edit them in the admin; one helper per schedule kind
so every app declares its periodic work the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import migrations


def _periodic_task(
    *,
    name: str,
    task: str,
    queue: str,
    description: str,
    schedule: Callable,
    expire_seconds: int | None = None,
) -> migrations.RunPython:
    """A RunPython operation that creates (or updates) one PeriodicTask.

    `schedule(apps)` returns the schedule field to set, e.g. {"interval": <row>}.
    """

    def create(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "queue": queue,
                "description": description,
                # a tick the workers could not take in time is dropped, not piled up
                "expire_seconds": expire_seconds,
                "interval": None,
                "crontab": None,
                **schedule(apps),
            },
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, remove)


def interval_task(*, every: int, period: str, **kwargs) -> migrations.RunPython:
    """Every `every` `period`s (e.g. 5 "minutes")."""

    def schedule(apps):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        row, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        return {"interval": row}

    return _periodic_task(schedule=schedule, **kwargs)


def crontab_task(*, minute: str, hour: str, **kwargs) -> migrations.RunPython:
    """Daily-style crontab in UTC (e.g. minute "0", hour "2")."""

    def schedule(apps):
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        row, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        return {"crontab": row}

    return _periodic_task(schedule=schedule, **kwargs)
