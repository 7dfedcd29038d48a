"""SMTPS (EMAIL_USE_SSL, port 465): a notification sent through Django's SMTP backend to an
aiosmtpd server speaking TLS from the first byte, with a certificate of a CA made for the test."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications import sending
from notifications.celery_tasks import send_notification
from notifications.models import Notification

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


@pytest.mark.usefixtures("trust_the_test_ca")
def test_a_notification_goes_out_over_implicit_tls_and_is_marked_sent(user, smtps_server):
    notification = NotificationFactory(user=user, subject="Over TLS", body_text="sealed")
    assert send_notification(notification.pk) == {"sent": 1, "retrying": 0, "failed": 0}
    (received,) = smtps_server.messages
    assert received.rcpt_tos == [user.email]
    assert b"Subject: Over TLS" in received.content and b"sealed" in received.content
    assert smtps_server.tls_versions[0] in {"TLSv1.2", "TLSv1.3"}  # encrypted from the start
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.attempts == 1
    assert notification.last_error == ""


def test_a_server_whose_certificate_is_not_trusted_gets_nothing_and_the_mail_waits(
    user, smtps_server
):
    """Without the test CA the certificate fails verification: Django checks it, and the
    outbox treats the server as unreachable (no attempt spent) rather than sending anyway."""
    notification = NotificationFactory(user=user)
    assert sending.notifications_send_due(first_id=notification.pk)["retrying"] == 1
    assert smtps_server.messages == []
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and notification.attempts == 0
    assert "CERTIFICATE_VERIFY_FAILED" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
