"""The one way to write an audit event."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.db import models

from taskplatform.context import current_client_ip, current_request_id

from .models import AuditEvent

# inside `audit_together`: the events recorded so far, written when it ends
_together: ContextVar[list[AuditEvent] | None] = ContextVar("audit_together", default=None)


@contextlib.contextmanager
def audit_together() -> Iterator[None]:
    """Events recorded inside are written in one INSERT when the block ends without an
    error (use it inside the transaction that makes the changes: a worker running a whole
    message of job runs writes two events a run, 40 rows, in one statement)."""
    events: list[AuditEvent] = []
    token = _together.set(events)
    try:
        yield
    finally:
        _together.reset(token)
    AuditEvent.objects.bulk_create(events)


def audit_record(
    *,
    actor: Any = None,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event (unsaved until the end of `audit_together`, inside one). IP and
    request id come from the current request (or Celery task).

    `actor` is a User or None (the system, or an anonymous caller). Call it inside the
    service's transaction, so the event exists exactly when the change does.
    """
    actor = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
        ip=current_client_ip(),
        request_id=current_request_id(),
    )
    together = _together.get()
    if together is None:
        event.save()
    else:
        together.append(event)  # saved with the others (`audit_together`)
    return event
