"""Send one email now through the configured backend, to check the email set-up."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from notifications.models import Notification
from notifications.services import email_setup_check


class Command(BaseCommand):
    help = "Send a test email to EMAIL through the configured backend; exit 1 if it fails."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        notification = email_setup_check(to_email=email)
        if notification.status != Notification.Status.SENT:
            raise CommandError(
                f"Not sent ({notification.status}): {notification.last_error or 'unknown error'}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Sent to {email} via {settings.EMAIL_BACKEND} "
                f"(message id {notification.provider_message_id})."
            )
        )
