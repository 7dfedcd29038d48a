"""The one way jobs and notifications hand work to the broker (taskplatform.outbox)."""

from __future__ import annotations

import logging

from notifications.celery_tasks import publish_notifications
from taskplatform import outbox


def test_the_backoff_doubles_with_jitter_and_is_capped():
    assert 8 <= outbox.backoff(1, base=10, cap=100) <= 12
    assert 16 <= outbox.backoff(2, base=10, cap=100) <= 24
    assert 80 <= outbox.backoff(10, base=10, cap=100) <= 120
    assert outbox.backoff(10_000, base=10, cap=100) <= 120  # no overflow either


def test_a_task_is_published_by_name_with_the_short_retry_policy(monkeypatch):
    sent = []
    monkeypatch.setattr(
        publish_notifications, "apply_async", lambda args, **options: sent.append((args, options))
    )
    assert outbox.publish("notifications.publish", (), queue="maintenance") is True
    assert sent == [((), {"retry_policy": outbox.RETRY_POLICY, "queue": "maintenance"})]


def test_a_broker_that_refuses_is_logged_not_raised(monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(publish_notifications, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING, logger="taskplatform.outbox"):
        assert outbox.publish("notifications.publish", ()) is False
    assert "broker unavailable: notifications.publish" in caplog.text


def test_waiting_counts_the_messages_a_queue_holds(settings):
    """Against the configured broker (Redis in CI, the file broker otherwise)."""
    from celery import current_app

    current_app.conf.task_always_eager = False
    try:
        with current_app.pool.acquire(block=True) as connection:
            channel = connection.default_channel
            channel.queue_declare(queue="outbox-test", durable=True)
            channel.queue_purge("outbox-test")
            for n in range(3):
                channel.basic_publish(
                    channel.prepare_message(f"m{n}"), exchange="", routing_key="outbox-test"
                )
        assert outbox.waiting("outbox-test") == 3
        with current_app.pool.acquire(block=True) as connection:
            connection.default_channel.queue_purge("outbox-test")
    finally:
        current_app.conf.task_always_eager = True
    assert outbox.waiting("outbox-test") is None  # eager mode: nothing to count
