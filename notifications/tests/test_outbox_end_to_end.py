"""Real parts: a Celery worker on a real broker, a real SMTP server, real commits.

The outage test runs its own redis-server so it can stop and restart the broker.
"""

from __future__ import annotations

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import transaction

from notifications import services
from notifications.celery_tasks import publish_notifications, sweep_notifications
from notifications.kinds import Kind
from notifications.models import Notification
from taskplatform.celery import app as celery_app
from taskplatform.testing import use_broker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_a_notification_reaches_a_real_smtp_server_once(smtp_server, real_worker, user):
    with transaction.atomic():
        services.notification_create(
            user=user, kind=Kind.REMINDER, context={"message": "end to end"}
        )
    assert wait_for(lambda: len(smtp_server.messages) == 1)
    notification = Notification.objects.get()
    assert wait_for(lambda: Notification.objects.get().status == Notification.Status.SENT)
    assert smtp_server.messages[0].rcpt_tos == [user.email]
    assert b"end to end" in smtp_server.messages[0].content
    time.sleep(1)
    assert len(smtp_server.messages) == 1 and notification.pk


def test_nothing_is_lost_when_the_broker_is_down(
    smtp_server, private_redis, not_eager, user, settings, caplog
):
    settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS = 0
    # a real worker started earlier in this process may have set the root logger to ERROR
    caplog.set_level(logging.WARNING, logger="taskplatform.outbox")
    private_redis.start()
    use_broker(private_redis.url)
    private_redis.stop()  # the broker is now unreachable

    recipients = [f"outage{n}@example.com" for n in range(5)]
    for address in recipients:
        with transaction.atomic():
            services.notification_create(
                user=user, kind=Kind.REMINDER, context={"message": address}, to_email=address
            )
    assert set(Notification.objects.values_list("status", flat=True)) == {"queued"}
    assert "broker unavailable: notifications.send_notification" in caplog.text
    assert smtp_server.messages == []

    private_redis.start()  # the broker is back (empty: the lost messages are gone)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        publish_notifications.delay()  # what beat does every second
        assert wait_for(lambda: len(smtp_server.messages) == len(recipients))
        publish_notifications.delay()  # a later tick finds nothing left to send
        sweep_notifications.delay()  # nor does the sweeper
        time.sleep(1.5)
    delivered = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert delivered == sorted(recipients)  # every one, exactly once
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert django_settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS == 0
