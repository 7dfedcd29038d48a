"""The notifications publisher as a PeriodicTask row, visible and editable in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0007_enqueued_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="notifications: publisher",
            task="notifications.publish",
            every=1,
            period="seconds",
            queue="maintenance",
            description=(
                "Hands queued notifications whose time came (new ones the broker refused, "
                "retries) to the senders."
            ),
            # a tick the workers could not take in time is dropped, not piled up
            expire_seconds=10,
        ),
    ]
