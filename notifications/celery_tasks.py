"""Thin Celery tasks: fetch by id, call the service.

Time is kept in the database (next_attempt_at, enqueued_at), not in Celery messages: a row
knows when it is due, so the publisher hands it over when that comes and the sweeper takes
over whenever a message or a worker is lost. No task here retries with a countdown.
"""

from __future__ import annotations

from celery import shared_task

from taskplatform.task_retry import RETRY_WHEN_THE_DATABASE_IS_DOWN

from . import holding, publishing, sending


@shared_task(
    bind=True,
    name="notifications.send_notification",
    queue="notifications",
    acks_late=True,
    **RETRY_WHEN_THE_DATABASE_IS_DOWN,
)
def send_notification(self, notification_id: int | None = None) -> dict[str, int]:
    """Send this notification (claimed first, so a redelivery sends nothing) and every other
    due one, batch by batch over one SMTP connection. With no id: only what is due."""
    return sending.notifications_send_due(
        first_id=notification_id, message_id=self.request.id or ""
    )


@shared_task(name="notifications.publish", queue="maintenance")
def publish_notifications() -> int:
    """Beat, every second: hand queued rows whose time came (retries, rows the broker
    refused) to the senders."""
    return publishing.notifications_publish_due()


@shared_task(name="notifications.sweep", queue="maintenance", acks_late=True)
def sweep_notifications() -> dict[str, int]:
    """Beat, every minute: release or drop mail held for unverified addresses, requeue rows
    of dead senders, re-send lost messages."""
    held = holding.notifications_sweep_held()
    return {**held, **publishing.notifications_requeue_stuck()}
