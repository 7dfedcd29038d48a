"""System checks of the email set-up (run by `manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning

SENDGRID = "anymail.backends.sendgrid.EmailBackend"


@register(Tags.security, deploy=True)
def sendgrid_webhook_secret(app_configs, **kwargs):
    if settings.EMAIL_BACKEND != SENDGRID or settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return []
    return [
        CheckWarning(
            "SendGrid sends the email but ANYMAIL_WEBHOOK_SECRET is unset: the tracking webhook "
            "is off (404), so deliveries and bounces don't reach the notifications.",
            hint="Set ANYMAIL_WEBHOOK_SECRET=user:password and point SendGrid's event webhook "
            "at https://user:password@<host>/webhooks/anymail/sendgrid/tracking/.",
            id="notifications.W001",
        )
    ]
