"""Platform upkeep as django-celery-beat PeriodicTask rows, created by data migrations.

Rows (not code) so operators see and edit them in the admin; one helper so every app
declares its periodic work the same way.
"""

from __future__ import annotations

from django.db import migrations


def interval_task(
    *,
    name: str,
    task: str,
    every: int,
    period: str,
    queue: str,
    description: str,
    expire_seconds: int | None = None,
) -> migrations.RunPython:
    """A RunPython operation that creates (or updates) one interval PeriodicTask."""

    def create(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": schedule,
                "queue": queue,
                "description": description,
                # a tick the workers could not take in time is dropped, not piled up
                "expire_seconds": expire_seconds,
            },
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, remove)


def crontab_task(
    *, name: str, task: str, minute: str, hour: str, queue: str, description: str
) -> migrations.RunPython:
    """A RunPython operation that creates (or updates) one daily-style crontab PeriodicTask."""

    def create(apps, schema_editor):
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": schedule,
                "interval": None,
                "queue": queue,
                "description": description,
            },
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, remove)
