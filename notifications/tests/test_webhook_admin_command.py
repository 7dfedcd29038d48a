from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from notifications.models import Notification

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/webhooks/anymail/sendgrid/tracking/"
Status = Notification.Status


@pytest.fixture
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    return "Basic " + base64.b64encode(b"hook:s3cret").decode()


@pytest.fixture
def sent(user):
    return NotificationFactory(user=user, status=Status.SENT, provider_message_id="anymail-123")


def post_events(client, events, auth):
    return client.post(
        WEBHOOK, json.dumps(events), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


@pytest.mark.parametrize(
    ("event", "status"), [("delivered", Status.DELIVERED), ("bounce", Status.BOUNCED)]
)
def test_tracking_events_update_the_status(client, webhook_secret, sent, event, status):
    response = post_events(
        client,
        [
            {
                "event": event,
                "email": sent.to_email,
                "timestamp": 1795000000,
                "anymail_id": "anymail-123",
                "reason": "mailbox full",
            }
        ],
        webhook_secret,
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == status


def test_unknown_events_and_messages_change_nothing(client, webhook_secret, sent):
    post_events(
        client,
        [
            {"event": "open", "anymail_id": "anymail-123", "timestamp": 1},
            {"event": "delivered", "anymail_id": "other", "timestamp": 1},
        ],
        webhook_secret,
    )
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_the_webhook_requires_basic_auth(client, webhook_secret, sent):
    wrong = "Basic " + base64.b64encode(b"hook:guess").decode()
    response = post_events(client, [{"event": "bounce", "anymail_id": "anymail-123"}], wrong)
    assert response.status_code in (400, 403)
    sent.refresh_from_db()
    assert sent.status == Status.SENT


# --- admin -------------------------------------------------------------------------------------


def test_admin_lists_filters_and_resends(admin_client, sent, django_capture_on_commit_callbacks):
    changelist = "/admin/notifications/notification/"
    assert admin_client.get(changelist, {"status__exact": "sent"}).status_code == 200
    assert admin_client.get(changelist, {"q": sent.to_email}).status_code == 200
    page = admin_client.get(f"{changelist}{sent.pk}/change/")
    assert page.status_code == 200 and b'name="subject"' not in page.content  # read only
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "resend", "_selected_action": [sent.pk]})
    sent.refresh_from_db()
    assert sent.status == Status.SENT and len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="notification.resent").count() == 1
    assert admin_client.get("/admin/notifications/notificationpreference/").status_code == 200


# --- send_test_email ---------------------------------------------------------------------------


def test_send_test_email_command(smtp_server):
    out = StringIO()
    call_command("send_test_email", "ops@example.com", stdout=out)
    assert "Sent to ops@example.com" in out.getvalue()
    assert smtp_server.messages[0].rcpt_tos == ["ops@example.com"]


def test_send_test_email_rejects_a_bad_address():
    with pytest.raises(CommandError, match="not an email"):
        call_command("send_test_email", "nope")


def test_send_test_email_fails_loudly_when_smtp_is_down(settings, smtp_server):
    smtp_server.refuse_next = ["554 5.7.1 Relay denied"]
    with pytest.raises(CommandError, match="554"):
        call_command("send_test_email", "ops@example.com", stdout=StringIO())


# --- the webhook's gates (issue 25) ---------------------------------------------------------


def test_without_a_secret_the_webhook_does_not_exist(client, settings, sent):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": None}
    response = post_events(client, [{"event": "bounce", "anymail_id": "anymail-123"}], "")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    sent.refresh_from_db()
    assert sent.status == Status.SENT


@pytest.mark.parametrize("body", ["", "null", "[1, 2]", '{"event": "bounce"}', "[[]]", "{"])
def test_a_body_that_is_not_a_list_of_events_is_a_400(client, webhook_secret, sent, body):
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_AUTHORIZATION=webhook_secret
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    sent.refresh_from_db()
    assert sent.status == Status.SENT


@pytest.mark.parametrize(
    "event", [{"event": 5}, {"event": "bounce", "timestamp": "soon"}, {"event": "bounce", "x": []}]
)
def test_events_anymail_cannot_read_are_a_400_or_ignored_never_a_500(
    client, webhook_secret, sent, event
):
    response = post_events(client, [event], webhook_secret)
    assert response.status_code in (200, 400)
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_check_deploy_warns_when_sendgrid_sends_without_a_webhook_secret(settings):
    from notifications.checks import sendgrid_webhook_secret

    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": None}
    (warning,) = sendgrid_webhook_secret(None)
    assert warning.id == "notifications.W001"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    assert sendgrid_webhook_secret(None) == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": None}
    assert sendgrid_webhook_secret(None) == []
