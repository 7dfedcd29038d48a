"""The daily digest (issue 14): `digest_when_empty` (send a digest with nothing to report;
off by default, and for rows the previous release inserts during a deploy: db_default) and
the planner's `digest_due_at` with the partial index its sweep reads."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0009_held_suppressed_task_assigned'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationpreference',
            name='digest_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='digest_when_empty',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name='notificationpreference',
            index=models.Index(condition=models.Q(('daily_digest', True)), fields=['digest_due_at'], name='notif_pref_digest_due_idx'),
        ),
    ]
