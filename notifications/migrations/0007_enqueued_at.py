"""Notifications keep time in the database like job runs: `enqueued_at` marks a queued row a
sender message was handed to the broker for; the publisher (beat, every second) sends the
rest. NULL for every existing row, and for rows the previous release inserts while this
migrates (db_default), so the publisher finds them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0006_claimed_by'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, db_default=None, null=True),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('enqueued_at__isnull', True), ('status', 'queued')), fields=['next_attempt_at', 'id'], name='notif_unsent_idx'),
        ),
    ]
