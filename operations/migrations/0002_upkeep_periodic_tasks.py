"""Scheduled upkeep as PeriodicTask rows operators can see and edit in the admin."""

from django.db import migrations

from taskplatform.periodic import crontab_task, interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_watch_state"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        crontab_task(
            name="operations: prune",
            task="operations.prune",
            minute="0",
            hour="2",
            queue="maintenance",
            description="Retention: old runs, notifications, expired tokens (PRUNE_* settings).",
        ),
        interval_task(
            name="operations: health watch",
            task="operations.health_watch",
            every=5,
            period="minutes",
            queue="maintenance",
            description="Emails ADMINS once when the platform goes bad and once on recovery.",
        ),
    ]
