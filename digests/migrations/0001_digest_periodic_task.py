"""The daily digest sweep as a PeriodicTask row, visible and editable in the admin."""

from django.db import migrations

from taskplatform.periodic import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_digest_when_empty_due_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            name="digests: daily digest",
            task="digests.plan",
            every=1,
            period="minutes",
            queue="maintenance",
            description=(
                "Queues one daily digest per user whose local digest hour has come "
                "(once per local date)."
            ),
            # a sweep the workers could not take within the minute is dropped: the next
            # one plans the same users
            expire_seconds=50,
        ),
    ]
