"""SendGrid through django-anymail: notifications posted to a local stand-in for SendGrid's
v3 API (ANYMAIL["SENDGRID_API_URL"]), and what each of its answers does to the row."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.utils import timezone

from notifications import publishing, sending, services
from notifications.celery_tasks import send_notification
from notifications.models import Notification
from taskplatform.testing import free_port

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status
SENT_ONE = {"sent": 1, "retrying": 0, "failed": 0}


def later(seconds: float) -> object:
    return timezone.now() + timedelta(seconds=seconds)


def test_a_notification_is_posted_to_mail_send_as_sendgrid_expects(user, sendgrid_api, settings):
    notification = NotificationFactory(
        user=user, subject="Water the plants", body_text="Text part", body_html="<p>HTML part</p>"
    )
    assert send_notification(notification.pk) == SENT_ONE
    (request,) = sendgrid_api.requests
    assert request.method == "POST" and request.path == "/v3/mail/send"
    assert request.headers["Authorization"] == f"Bearer {sendgrid_api.key}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert body["subject"] == "Water the plants"
    assert body["content"] == [
        {"type": "text/plain", "value": "Text part"},
        {"type": "text/html", "value": "<p>HTML part</p>"},
    ]
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    assert body["from"] == {"email": address, "name": name}
    (personalization,) = body["personalizations"]
    assert personalization["to"] == [{"email": user.email}]
    # the Message-ID the row was claimed with travels as a header
    assert body["headers"]["Message-ID"].startswith(f"<notification.{notification.pk}.1.")


def test_a_202_marks_it_sent_with_the_id_sendgrid_s_events_carry(user, sendgrid_api):
    notification = NotificationFactory(user=user)
    assert send_notification(notification.pk) == SENT_ONE
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.sent_at is not None
    assert notification.attempts == 1 and notification.last_error == ""
    # anymail's id for the message, sent as custom_args.anymail_id: SendGrid's webhook
    # events name it, and the webhook finds the row by it
    (request,) = sendgrid_api.requests
    anymail_id = request.body["personalizations"][0]["custom_args"]["anymail_id"]
    assert notification.provider_message_id == anymail_id
    assert services.notification_track(message_id=anymail_id, event_type="delivered") == 1
    notification.refresh_from_db()
    assert notification.status == Status.DELIVERED


@pytest.mark.parametrize("answer", [500, 502, 503, 429])
def test_a_5xx_or_429_is_temporary_and_retried_after_the_backoff(
    user, sendgrid_api, settings, answer
):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    sendgrid_api.answer_next = [answer]
    notification = NotificationFactory(user=user)
    assert send_notification(notification.pk) == {"sent": 0, "retrying": 1, "failed": 0}
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and notification.attempts == 1
    assert f"SendGrid API response {answer}" in notification.last_error
    assert later(7) < notification.next_attempt_at < later(13)
    assert publishing.notifications_publish_due() == 0  # not before its time
    # the tick after its back-off: SendGrid takes it on the second attempt
    assert publishing.notifications_publish_due(now=later(13)) == 1
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.attempts == 2
    assert notification.last_error == "" and len(sendgrid_api.requests) == 2


def test_temporary_answers_every_time_fail_it_after_the_last_attempt(user, sendgrid_api, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    sendgrid_api.answer_next = [429, 503, 429, 503]
    notification = NotificationFactory(user=user)
    send_notification(notification.pk)
    for _ in range(3):  # the ticks after each back-off
        publishing.notifications_publish_due(now=later(3600))
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and notification.attempts == 3
    assert "SendGrid API response 429" in notification.last_error
    assert len(sendgrid_api.requests) == 3  # not one more


# 400: a request SendGrid can't take — permanent for the outbox (docs/operations.md, Email)
def test_a_400_fails_at_once_with_sendgrid_s_reason_and_is_not_retried(user, sendgrid_api):
    sendgrid_api.answer_next = [400]
    notification = NotificationFactory(user=user)
    assert send_notification(notification.pk) == {"sent": 0, "retrying": 0, "failed": 1}
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and notification.attempts == 1
    assert "SendGrid API response 400" in notification.last_error
    assert "stand-in refusal 400" in notification.last_error  # SendGrid's own words
    assert publishing.notifications_publish_due(now=later(3600)) == 0
    assert len(sendgrid_api.requests) == 1


# 401 / 403: a wrong or revoked key, a key without the Mail Send permission — the SMTP login
# refused: nothing is lost and no attempt spent; mail goes out once the key is fixed
@pytest.mark.parametrize("answer", [401, 403])
def test_a_refused_key_holds_the_mail_without_spending_attempts(user, sendgrid_api, answer, caplog):
    sendgrid_api.answer_next = [answer]
    notification = NotificationFactory(user=user)
    assert sending.notifications_send_due(first_id=notification.pk)["retrying"] == 1
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and notification.attempts == 0
    assert f"the email provider refuses us ({answer})" in caplog.text
    assert send_notification(notification.pk)["sent"] == 1  # the key fixed: 202 from now on
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.attempts == 1


def test_an_unreachable_api_costs_no_attempt(user, settings):
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"http://127.0.0.1:{free_port()}/v3/",  # nothing listens
    }
    notification = NotificationFactory(user=user)
    assert sending.notifications_send_due(first_id=notification.pk)["retrying"] == 1
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and notification.attempts == 0
    assert notification.next_attempt_at > timezone.now()
