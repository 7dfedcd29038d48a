from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list(*, user) -> QuerySet[AuditEvent]:
    """Staff see every event; everyone else the events they caused."""
    events = AuditEvent.objects.all()
    if not user.is_staff:
        events = events.filter(actor=user)
    return events
