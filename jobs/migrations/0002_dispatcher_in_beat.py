"""The dispatcher moved into beat (jobs/beat.py): its once-a-second PeriodicTask goes."""

from django.db import migrations

NAME = "jobs: dispatcher"


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


def restore(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    apps.get_model("django_celery_beat", "PeriodicTask").objects.update_or_create(
        name=NAME,
        defaults={
            "task": "jobs.dispatch",
            "queue": "maintenance",
            "interval": every_second,
            "expire_seconds": 10,
            "description": "Creates runs for due jobs and sends them to workers.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_initial"),
        ("tasks", "0005_job_periodic_tasks"),
    ]

    operations = [migrations.RunPython(remove, restore)]
