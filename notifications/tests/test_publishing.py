"""Handing queued rows to the senders: the publisher (beat's tick), the bulk queue, the sender
message (one per batch, a redelivery sends nothing twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import CharField, F, JSONField, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.tests.factories import UserFactory
from notifications import publishing
from notifications.celery_tasks import send_notification
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from notifications.services import notifications_queue_bulk
from taskplatform.celery import app as celery_app

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


@pytest.fixture
def published(monkeypatch):
    """The first row each sender message names; nothing is sent."""
    first_ids: list[int | None] = []
    monkeypatch.setattr(
        send_notification, "apply_async", lambda args, **options: first_ids.append(args[0])
    )
    return first_ids


def test_the_publisher_is_beat_s_tick_every_second():
    celery_app.loader.import_default_modules()
    row = PeriodicTask.objects.select_related("interval").get(name="notifications: publisher")
    assert (row.interval.every, row.interval.period) == (1, "seconds")
    assert row.enabled and row.queue == "maintenance" and row.task in celery_app.tasks


def test_one_message_per_batch_names_its_first_row_and_marks_them_all(user, published):
    rows = NotificationFactory.create_batch(publishing.CLAIM_BATCH + 1, user=user)
    assert publishing.notifications_publish_due() == len(rows)
    assert published == [rows[0].pk, rows[publishing.CLAIM_BATCH].pk]
    assert not Notification.objects.filter(enqueued_at__isnull=True).exists()
    assert publishing.notifications_publish_due() == 0  # marked: not published twice


def test_rows_not_due_or_not_queued_are_not_published(user, published):
    NotificationFactory(user=user, next_attempt_at=timezone.now() + timedelta(minutes=1))
    NotificationFactory(user=user, status=Status.SENDING)
    NotificationFactory(user=user, status=Status.SENT)
    assert publishing.notifications_publish_due() == 0 and published == []


def test_what_the_broker_refuses_is_unmarked_for_the_next_tick(user, monkeypatch):
    rows = NotificationFactory.create_batch(publishing.CLAIM_BATCH + 1, user=user)
    answers = iter([True, False])  # the broker takes the first batch, then goes down
    monkeypatch.setattr(publishing, "sender_publish", lambda first_id: next(answers))
    assert publishing.notifications_publish_due() == publishing.CLAIM_BATCH
    unmarked = Notification.objects.filter(enqueued_at__isnull=True)
    assert list(unmarked.values_list("pk", flat=True)) == [rows[-1].pk]


def test_the_sweeper_unmarks_only_messages_out_too_long(user, published, settings):
    settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS = 60
    lost = NotificationFactory(user=user, enqueued_at=timezone.now() - timedelta(minutes=2))
    NotificationFactory(user=user, enqueued_at=timezone.now())  # its message is on its way
    assert publishing.notifications_requeue_stuck() == {"freed": 0, "resent": 1, "published": 1}
    assert published == [lost.pk]


def test_a_redelivered_sender_message_sends_nothing_twice(user, smtp_server):
    rows = NotificationFactory.create_batch(3, user=user)
    first = send_notification.apply(args=(rows[0].pk,), task_id="message-1").get()
    assert first == {"sent": 3, "retrying": 0, "failed": 0}
    # the same message again (a lost ack), and another message naming a row of the batch
    assert send_notification.apply(args=(rows[0].pk,), task_id="message-1").get()["sent"] == 0
    assert send_notification.apply(args=(rows[1].pk,), task_id="message-2").get()["sent"] == 0
    assert len(smtp_server.messages) == 3


def test_a_message_naming_no_row_sends_what_is_due(user, smtp_server):
    NotificationFactory.create_batch(2, user=user)
    assert send_notification.apply(args=(None,), task_id="m").get()["sent"] == 2


def reminders_to(users):
    """One reminder per user, as a bulk caller's queryset (here: of the users themselves)."""
    from accounts.models import User

    return User.objects.filter(pk__in=[u.pk for u in users]).values(
        user_id=F("id"),
        to_email=F("email"),
        subject=Value("Reminder", output_field=CharField()),
        context=Value({"message": "bulk"}, output_field=JSONField()),
        idempotency_key=Concat(Value("bulk:"), F("email"), output_field=CharField()),
    )


def test_the_bulk_queue_skips_what_notify_would_and_queues_each_key_once(user):
    switched_off = UserFactory(is_active=False)
    not_wanted = UserFactory()
    NotificationPreference.objects.create(user=not_wanted, task_due_soon=False)
    everyone = [user, switched_off, not_wanted]
    assert notifications_queue_bulk(kind=Kind.TASK_DUE_SOON, rows=reminders_to(everyone)) == 1
    # the same keys again, of a kind no preference turns off: only the new one
    assert notifications_queue_bulk(kind=Kind.REMINDER, rows=reminders_to(everyone)) == 1
    rows = Notification.objects.all()
    assert {(n.user, n.kind) for n in rows} == {(user, "task_due_soon"), (not_wanted, "reminder")}
    assert {n.status for n in rows} == {Status.QUEUED}


def test_bulk_rows_are_rendered_and_sent_after_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notifications_queue_bulk(kind=Kind.REMINDER, rows=reminders_to([user])) == 1
    assert Notification.objects.get().body_text == "" and len(callbacks) == 1
    callbacks[0]()
    assert [m.subject for m in mail.outbox] == ["Reminder: bulk"]
    assert Notification.objects.get().status == Status.SENT
