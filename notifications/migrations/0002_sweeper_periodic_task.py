"""The outbox sweeper as a PeriodicTask row, visible and editable in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="notifications: re-enqueue stuck notifications",
            task="notifications.sweep",
            every=1,
            period="minutes",
            queue="maintenance",
            description="Sends notifications left queued while the broker was down.",
        ),
    ]
