"""The retention sweep as a PeriodicTask row operators can see and edit in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="live: prune events",
            task="live.prune_events",
            every=1,
            period="hours",
            queue="maintenance",
            expire_seconds=600,
            description="Deletes live events older than LIVE_RETENTION_HOURS.",
        ),
    ]
