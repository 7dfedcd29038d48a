"""The jobs dispatcher and sweeper as PeriodicTask rows, visible and editable in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0004_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="jobs: dispatcher",
            task="jobs.dispatch",
            every=1,
            period="seconds",
            queue="maintenance",
            description="Creates runs for due jobs and sends them to workers.",
            expire_seconds=10,
        ),
        interval_task(
            name="jobs: sweeper",
            task="jobs.sweep",
            every=1,
            period="minutes",
            queue="maintenance",
            description="Re-sends runs whose message was lost; fails runs whose worker died.",
        ),
    ]
