from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import User


def audit_event_list(*, user: User) -> QuerySet[AuditEvent]:
    """Staff see every event; everyone else the events they caused."""
    events = AuditEvent.objects.all()
    if not user.is_staff:
        events = events.filter(actor=user)
    return events
