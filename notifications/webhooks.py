"""Provider tracking events (delivered, bounced, ...) update the notification's status.

anymail validates the webhook (HTTP basic auth with ANYMAIL WEBHOOK_SECRET) and sends the
`tracking` signal; the route is in taskplatform/urls.py.
"""

from __future__ import annotations

from anymail.signals import tracking
from django.dispatch import receiver

from .services import notification_track


@receiver(tracking, dispatch_uid="notifications.tracking")
def on_tracking_event(sender, event, esp_name, **kwargs):
    notification_track(
        message_id=event.message_id or "",
        event_type=event.event_type or "",
        description=event.description or event.mta_response or "",
    )
