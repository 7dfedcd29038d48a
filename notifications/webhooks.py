"""Provider tracking events (delivered, bounced, ...) update the notification's status.

`sendgrid_tracking_webhook` (routed in taskplatform/urls.py) is anymail's SendGrid view behind
two gates: it exists only when ANYMAIL_WEBHOOK_SECRET is set (404 otherwise — anonymous events
could mark anyone's mail bounced; `check --deploy` warns when SendGrid sends without one), and
a body that isn't a JSON list of event objects is a 400 in the error envelope, never a 500.
anymail then checks the HTTP basic auth and sends the `tracking` signal handled below.
"""

from __future__ import annotations

import json

from anymail.signals import tracking
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from taskplatform.api.errors import envelope

from .services import notification_track

_anymail_view = SendGridTrackingWebhookView.as_view()


@csrf_exempt
def sendgrid_tracking_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise Http404
    if request.method == "POST" and not _is_event_list(request.body):
        return _malformed()
    try:
        return _anymail_view(request)
    except (KeyError, TypeError, ValueError, AttributeError):  # an event anymail can't read
        return _malformed()


def _is_event_list(body: bytes) -> bool:
    try:
        events = json.loads(body)
    except ValueError:
        return False
    return isinstance(events, list) and all(isinstance(event, dict) for event in events)


def _malformed() -> JsonResponse:
    message = "The body must be a JSON list of SendGrid event objects."
    return JsonResponse(envelope("validation_error", message), status=400)


@receiver(tracking, dispatch_uid="notifications.tracking")
def on_tracking_event(sender, event, esp_name, **kwargs):
    notification_track(
        message_id=event.message_id or "",
        event_type=event.event_type or "",
        description=event.description or event.mta_response or "",
    )
