"""The events live clients are sent, kept so a client that reconnects gets what it missed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# `audience` of an event every signed-in user may see (a public task)
PUBLIC = 0


class LiveEvent(models.Model):
    """One change as one client stream sees it: for a user (`audience` = their id) or for
    everyone signed in (`audience` = PUBLIC).

    A change seen by several people privately (a task's owner and assignee) is one row per
    person: "the events of user U after id N" is then one range of one index, `(audience,
    id)`, read as `audience IN (U, 0) AND id > N ORDER BY id`, the same plan on PostgreSQL
    and SQLite (an array or JSON column of recipients would need a GIN index on one and a
    scan on the other). `audience` is no foreign key: 0 is nobody, and a deleted user's rows
    just age out with the rest (live_prune).
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)
    audience = models.BigIntegerField()
    # "task.updated", "run.finished", "notification.sent", "meeting.updated", …
    type = models.CharField(max_length=32)
    # "task", "run", "notification", "meeting"
    object_type = models.CharField(max_length=16)
    object_id = models.BigIntegerField()
    # what the UI shows without asking again (small: titles, statuses, times)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["audience", "id"], name="live_audience_id_idx"),
            models.Index(fields=["created_at"], name="live_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.type} {self.object_type}:{self.object_id} → {self.audience}"

    def as_message(self) -> dict:
        """The event as clients receive it (docs/live.md)."""
        return {
            "id": self.pk,
            "type": self.type,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
