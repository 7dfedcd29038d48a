"""The due-soon sweep as a PeriodicTask row, visible and editable in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="tasks: due-soon reminders",
            task="tasks.due_soon_sweep",
            every=5,
            period="minutes",
            queue="maintenance",
            description="One email per task due within 24 hours (per due date).",
        ),
    ]
