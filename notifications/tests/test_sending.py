"""notify → outbox row → published → claimed → sent over SMTP (aiosmtpd on 127.0.0.1), in
eager mode (a published message runs at once)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from notifications import publishing, sending, services
from notifications.celery_tasks import publish_notifications, send_notification, sweep_notifications
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


def queued_rows(user, count: int) -> list[Notification]:
    """`count` queued reminders to `user`, subjects m0, m1, …"""
    return [NotificationFactory(user=user, subject=f"m{i}") for i in range(count)]


def later(seconds: float) -> object:
    return timezone.now() + timedelta(seconds=seconds)


def notify_now(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.notification_create(**kwargs)


def test_notify_stores_the_rendered_message_and_sends_it_after_commit(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = services.notification_create(
            user=user, kind=Kind.REMINDER, context={"message": "Hi"}
        )
    assert notification.status == Status.QUEUED and mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.provider_message_id.startswith("<")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and message.subject == "Reminder: Hi"
    assert message.alternatives[0][1] == "text/html"


def test_preferences_are_respected(user, django_capture_on_commit_callbacks):
    # defaults: successes off, failures on
    assert (
        notify_now(
            django_capture_on_commit_callbacks,
            user=user,
            kind=Kind.JOB_SUCCEEDED,
            context={"job": {"name": "x"}},
        )
        is None
    )
    assert (
        notify_now(
            django_capture_on_commit_callbacks,
            user=user,
            kind=Kind.JOB_FAILED,
            context={"job": {"name": "x"}},
        )
        is not None
    )
    NotificationPreference.objects.filter(user=user).update(job_failed=False)
    assert (
        notify_now(
            django_capture_on_commit_callbacks,
            user=user,
            kind=Kind.JOB_FAILED,
            context={"job": {"name": "x"}},
        )
        is None
    )
    # kinds without a preference always go out
    assert (
        notify_now(
            django_capture_on_commit_callbacks,
            user=user,
            kind=Kind.REMINDER,
            context={"message": "x"},
        )
        is not None
    )
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


def test_an_idempotency_key_mails_once(user, django_capture_on_commit_callbacks):
    first = notify_now(
        django_capture_on_commit_callbacks,
        user=user,
        kind=Kind.REMINDER,
        context={"message": "once"},
        idempotency_key="reminder:42:2026-12-01",
    )
    second = notify_now(
        django_capture_on_commit_callbacks,
        user=user,
        kind=Kind.REMINDER,
        context={"message": "once"},
        idempotency_key="reminder:42:2026-12-01",
    )
    assert first.pk == second.pk
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_a_redelivered_message_sends_nothing(user, django_capture_on_commit_callbacks):
    notification = notify_now(
        django_capture_on_commit_callbacks, user=user, kind=Kind.REMINDER, context={"message": "x"}
    )
    assert len(mail.outbox) == 1
    send_notification(notification.pk)  # the broker delivers the same message again
    send_notification(notification.pk)
    assert len(mail.outbox) == 1


def test_a_claimed_row_cannot_be_claimed_again(user):
    notification = NotificationFactory(user=user)
    assert [n.pk for n in sending.notifications_claim(first_id=notification.pk)] == [
        notification.pk
    ]
    assert sending.notifications_claim(first_id=notification.pk) == []
    notification.refresh_from_db()
    assert notification.status == Status.SENDING and notification.attempts == 1


def test_one_task_sends_a_batch_over_one_connection(user, smtp_server):
    for n in range(5):
        NotificationFactory(user=user, to_email=f"r{n}@example.com")
    first = Notification.objects.order_by("id").first()
    assert send_notification(first.pk) == {"sent": 5, "retrying": 0, "failed": 0}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        f"r{n}@example.com" for n in range(5)
    ]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_transient_smtp_error_is_retried_by_the_tick_after_the_backoff(
    user, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    smtp_server.refuse_next = ["451 4.3.0 Try again later"]
    notification = notify_now(
        django_capture_on_commit_callbacks,
        user=user,
        kind=Kind.REMINDER,
        context={"message": "retry me"},
    )
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and notification.enqueued_at is None
    assert later(7) < notification.next_attempt_at < later(13)
    assert publish_notifications() == 0  # not before its time
    assert smtp_server.messages == []
    # the tick after its time: it went out on the second attempt
    assert publishing.notifications_publish_due(now=later(13)) == 1
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.attempts == 2
    assert notification.last_error == ""  # cleared once it went out
    assert len(smtp_server.messages) == 1


def test_a_transient_error_requeues_the_row_for_later(user, smtp_server):
    smtp_server.refuse_next = ["421 4.7.0 Busy"]
    notification = NotificationFactory(user=user)
    sending.notifications_send_due(first_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED and "421" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert notification.enqueued_at is None  # the publisher hands it over when it is due


def test_a_permanent_error_fails_with_the_reason(
    user, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next = ["550 5.1.1 No such user"]
    notification = notify_now(
        django_capture_on_commit_callbacks, user=user, kind=Kind.REMINDER, context={"message": "x"}
    )
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and "550" in notification.last_error
    assert notification.attempts == 1 and smtp_server.messages == []


def test_attempts_are_capped(user, settings, smtp_server, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    smtp_server.refuse_next = ["451 busy"] * 5
    notification = notify_now(
        django_capture_on_commit_callbacks, user=user, kind=Kind.REMINDER, context={"message": "x"}
    )
    for _ in range(4):  # the ticks after each back-off
        publishing.notifications_publish_due(now=later(3600))
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and notification.attempts == 3


@pytest.fixture
def unreachable_smtp(settings):
    """SMTP on a port nothing listens on."""
    from taskplatform.testing import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()


def test_an_unreachable_smtp_server_is_transient(user, unreachable_smtp):
    notification = NotificationFactory(user=user)
    assert sending.notifications_send_due(first_id=notification.pk)["retrying"] == 1


def test_the_sweeper_re_sends_rows_whose_message_was_lost(user, settings):
    settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS = 60
    old = timezone.now() - timedelta(minutes=5)
    stuck = NotificationFactory(user=user, subject="stuck", next_attempt_at=old, enqueued_at=old)
    waiting = NotificationFactory(user=user, subject="waiting", enqueued_at=timezone.now())
    assert sweep_notifications() == {
        "released": 0,
        "dropped": 0,
        "freed": 0,
        "resent": 1,
        "published": 1,
    }
    stuck.refresh_from_db()
    assert stuck.status == Status.SENT
    # the other one went out in the same batch (it was due), once
    assert sorted(m.subject for m in mail.outbox) == ["stuck", "waiting"]
    assert Notification.objects.get(pk=waiting.pk).status == Status.SENT


def test_the_sweeper_frees_claims_of_dead_workers(user, settings):
    settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = 60
    notification = NotificationFactory(user=user, status=Status.SENDING)
    Notification.objects.filter(pk=notification.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    assert sweep_notifications()["freed"] == 1
    notification.refresh_from_db()
    assert notification.status == Status.SENT and len(mail.outbox) == 1


def broker_down(*args, **kwargs):
    raise ConnectionRefusedError("broker down")


def test_a_notification_queued_while_the_broker_is_down_is_published_by_the_tick(
    user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    with monkeypatch.context() as broker:
        broker.setattr(send_notification, "apply_async", broker_down)
        notification = notify_now(
            django_capture_on_commit_callbacks,
            user=user,
            kind=Kind.REMINDER,
            context={"message": "x"},
        )
        notification.refresh_from_db()
        assert notification.status == Status.QUEUED and notification.enqueued_at is None
        assert "broker unavailable" in caplog.text
        assert publish_notifications() == 0  # still down: the row waits for the next tick
    assert publish_notifications() == 1  # the broker is back
    notification.refresh_from_db()
    assert notification.status == Status.SENT and len(mail.outbox) == 1


def test_no_message_is_ever_published_with_a_countdown(
    user, smtp_server, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Time is kept in the rows: new rows, retries and what the sweeper recovers are all
    published when due, never as delayed messages."""
    published = []
    real_apply_async = send_notification.apply_async

    def recording(args, **options):
        published.append(options)
        return real_apply_async(args, **options)

    monkeypatch.setattr(send_notification, "apply_async", recording)
    smtp_server.refuse_next = ["451 busy"]
    notify_now(  # refused once: a retry
        django_capture_on_commit_callbacks, user=user, kind=Kind.REMINDER, context={"message": "x"}
    )
    publishing.notifications_publish_due(now=later(3600))  # the tick after its back-off
    queued_rows(user, 3)
    sending.notifications_claim(claimed_by="m-1")  # then the sender died
    settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = 0
    sweep_notifications()
    assert len(published) == 3 and len(smtp_server.messages) == 4
    assert all(not {"countdown", "eta"} & options.keys() for options in published)
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def test_register_sends_the_verification_email_and_verifying_the_welcome(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "new@example.com", "password": "a-long-passphrase-1"},
            format="json",
        )
    assert response.status_code == 202
    assert [m.subject for m in mail.outbox] == ["Verify your email address for taskplatform"]
    token = re.search(r"/verify-email/\?token=(\S+)", mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        verified = api_client.post("/api/v1/auth/verify-email/", {"token": token}, format="json")
    assert verified.status_code == 200
    assert mail.outbox[1].subject == "Welcome to taskplatform"
    user = User.objects.get(email="new@example.com")
    welcome = Notification.objects.get(kind=Kind.WELCOME)
    assert welcome.idempotency_key == f"welcome:{user.pk}"


def test_the_email_setup_check_goes_through_the_configured_backend(smtp_server):
    notification = services.email_setup_check(to_email="ops@example.com")
    assert notification.status == Status.SENT and notification.user is None
    assert smtp_server.messages[0].rcpt_tos == ["ops@example.com"]


def test_an_unreachable_server_costs_no_attempt_and_one_connection_per_batch(
    user, unreachable_smtp, monkeypatch
):
    rows = queued_rows(user, 3)
    connects = []
    real_connect = sending.delivery._connect
    monkeypatch.setattr(sending.delivery, "_connect", lambda: connects.append(1) or real_connect())
    assert sending.notifications_send_due() == {"sent": 0, "retrying": 3, "failed": 0}
    assert len(connects) == 1  # the first message found the server down; the rest waited
    for row in rows:
        row.refresh_from_db()
        assert row.status == Status.QUEUED and row.attempts == 0
        assert row.next_attempt_at > timezone.now() and "ServerUnreachable" in row.last_error


def test_rows_waiting_for_an_unreachable_server_give_up_after_days(
    user, unreachable_smtp, settings
):
    old = NotificationFactory(user=user)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.NOTIFICATIONS_GIVE_UP_AFTER_HOURS + 1)
    )
    assert sending.notifications_send_due()["failed"] == 1
    old.refresh_from_db()
    assert old.status == Status.FAILED and old.last_error.startswith("Gave up")


def test_each_sent_message_is_committed_before_the_next_is_sent(user, smtp_server, monkeypatch):
    """A sender killed mid-batch leaves every message it sent recorded as sent."""
    rows = queued_rows(user, 4)
    real_send = sending.delivery.send
    sent = []

    def killed_on_the_third(message):
        if len(sent) == 2:
            raise SystemExit("worker killed")  # nothing after this line runs, like kill -9
        sent.append(message.subject)
        return real_send(message)

    monkeypatch.setattr(sending.delivery, "send", killed_on_the_third)
    with pytest.raises(SystemExit):
        sending.notifications_send_due(message_id="m-1")
    statuses = [Notification.objects.get(pk=row.pk).status for row in rows]
    assert statuses == [Status.SENT, Status.SENT, Status.SENDING, Status.SENDING]
    assert len(smtp_server.messages) == 2


def test_the_same_message_redelivered_takes_back_the_rows_of_its_dead_sender(user, smtp_server):
    rows = queued_rows(user, 3)
    claimed = sending.notifications_claim(claimed_by="m-1")  # then the worker was killed
    assert len(claimed) == 3
    assert sending.notifications_send_due(message_id="m-2")["sent"] == 0  # not its rows
    assert sending.notifications_send_due(message_id="m-1")["sent"] == 3
    assert {Notification.objects.get(pk=row.pk).status for row in rows} == {Status.SENT}
    assert len(smtp_server.messages) == 3


def test_a_sender_out_of_time_puts_the_rest_back_without_spending_attempts(
    user, smtp_server, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    rows = queued_rows(user, 3)
    real_send = sending.delivery.send

    def out_of_time_on_the_second(message):
        if message.subject == "m1":
            raise SoftTimeLimitExceeded()
        return real_send(message)

    monkeypatch.setattr(sending.delivery, "send", out_of_time_on_the_second)
    with pytest.raises(SoftTimeLimitExceeded):
        sending.notifications_send_due(message_id="m-1")
    first, *rest = (Notification.objects.get(pk=row.pk) for row in rows)
    assert first.status == Status.SENT
    assert [(r.status, r.attempts) for r in rest] == [(Status.QUEUED, 0), (Status.QUEUED, 0)]
    assert all(r.next_attempt_at <= timezone.now() for r in rest)


def test_a_server_that_refuses_our_login_is_an_error_in_the_log(user, monkeypatch, caplog):
    import smtplib

    def refuse():
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed")

    monkeypatch.setattr(sending.delivery, "_open_connection", refuse)
    row = NotificationFactory(user=user)
    with caplog.at_level("ERROR", logger="notifications.delivery"):
        assert sending.notifications_send_due()["retrying"] == 1
    assert "refuses us" in caplog.text
    row.refresh_from_db()
    assert row.status == Status.QUEUED and row.attempts == 0


def test_a_sender_hands_over_after_its_slice_of_time(user, smtp_server, settings, monkeypatch):
    """Past NOTIFICATIONS_SENDER_SLICE_SECONDS a sender stops after the batch in hand and a
    fresh message goes on, so the worker's other queues get their turn."""
    settings.NOTIFICATIONS_SENDER_SLICE_SECONDS = 0
    monkeypatch.setattr(sending, "notifications_claim", _claim_two(sending.notifications_claim))
    handed_over: list[int | None] = []
    monkeypatch.setattr(
        sending, "sender_publish", lambda first_id: handed_over.append(first_id) or True
    )
    queued_rows(user, 5)

    assert sending.notifications_send_due() == {"sent": 2, "retrying": 0, "failed": 0}
    assert handed_over == [None]
    assert Notification.objects.filter(status=Status.QUEUED).count() == 3


def _claim_two(claim):
    return lambda **kwargs: claim(**{**kwargs, "limit": 2})


def test_the_tick_holds_back_while_senders_have_plenty_waiting(user, monkeypatch):
    from taskplatform import outbox

    queued_rows(user, 3)
    monkeypatch.setattr(outbox, "waiting", lambda queue: publishing.SENDERS_WAITING_MAX)
    assert publishing.notifications_publish_due() == 0
    assert not Notification.objects.filter(enqueued_at__isnull=False).exists()
    monkeypatch.setattr(outbox, "waiting", lambda queue: publishing.SENDERS_WAITING_MAX - 1)
    assert publishing.notifications_publish_due() == 3


def test_each_message_id_has_its_own_random_part(user):
    """One recipient's Message-ID tells nothing of another's in the same batch (a bounce
    forged with a derived id would otherwise mark someone else's mail bounced)."""
    rows = queued_rows(user, 3)
    sending.notifications_send_due(first_id=rows[0].pk)
    ids = [
        row.provider_message_id for row in Notification.objects.filter(pk__in=[r.pk for r in rows])
    ]
    randoms = set()
    for row, message_id in zip(rows, sorted(ids, key=lambda i: int(i.split(".")[1])), strict=True):
        match = re.fullmatch(rf"<notification\.{row.pk}\.1\.([0-9a-f]{{24}})@[^>]+>", message_id)
        assert match, message_id
        randoms.add(match.group(1))
    assert len(randoms) == 3
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == set(ids)
