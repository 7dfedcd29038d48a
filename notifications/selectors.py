from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, user) -> QuerySet[Notification]:
    """A user's own notifications (their mailbox history: staff see theirs too)."""
    return Notification.objects.filter(user=user)
