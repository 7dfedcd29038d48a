from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Notification

if TYPE_CHECKING:
    from accounts.models import User


def notification_list(*, user: User) -> QuerySet[Notification]:
    """A user's own notifications (their mailbox history: staff see theirs too)."""
    return Notification.objects.filter(user=user)
