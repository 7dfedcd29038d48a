"""Thin Celery tasks: fetch by id, call the service.

Retries are kept in the database (next_attempt_at), not in Celery's retry state: the row
knows when it is due, so the sweeper can take over whenever a message is lost.
"""

from __future__ import annotations

from celery import shared_task

from taskplatform.task_retry import RETRY_WHEN_THE_DATABASE_IS_DOWN

from . import services


@shared_task(
    bind=True,
    name="notifications.send_notification",
    queue="notifications",
    acks_late=True,
    **RETRY_WHEN_THE_DATABASE_IS_DOWN,
)
def send_notification(self, notification_id: int) -> dict[str, int]:
    """Send this notification (claimed first, so a redelivery sends nothing) and any other
    due ones, in one batch over one SMTP connection."""
    return services.notifications_send_due(
        first_id=notification_id, message_id=self.request.id or ""
    )


@shared_task(
    bind=True,
    name="notifications.send_pending",
    queue="notifications",
    acks_late=True,
    **RETRY_WHEN_THE_DATABASE_IS_DOWN,
)
def send_pending_notifications(self, slot: int = 0) -> dict[str, int]:
    """Send every due notification, batch by batch (queued by notify() after commit)."""
    services.sender_started(slot)
    return services.notifications_send_due(message_id=self.request.id or "")


@shared_task(name="notifications.sweep", queue="maintenance", acks_late=True)
def sweep_notifications() -> int:
    """Beat, every minute: re-enqueue notifications the broker never delivered."""
    return services.notifications_requeue_stuck()
