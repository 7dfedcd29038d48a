"""The one way to write an audit event."""

from __future__ import annotations

from typing import Any

from django.db import models

from taskplatform.context import current_client_ip, current_request_id

from .models import AuditEvent


def audit_record(
    *,
    actor: Any = None,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event. IP and request id come from the current request (or Celery task).

    `actor` is a User or None (the system, or an anonymous caller). Call it inside the
    service's transaction, so the event exists exactly when the change does.
    """
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
        ip=current_client_ip(),
        request_id=current_request_id(),
    )
