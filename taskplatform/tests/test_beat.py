from __future__ import annotations

import pytest

from taskplatform import heartbeat
from taskplatform.beat import HeartbeatScheduler
from taskplatform.celery import app as celery_app

# the scheduler closes stale connections, so no wrapping test transaction
pytestmark = pytest.mark.django_db(transaction=True)


def test_beats_scheduler_ticks_write_a_heartbeat_and_never_sleep_past_it(settings):
    settings.HEARTBEAT_INTERVAL = 5
    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    scheduler.setup_schedule()
    assert not heartbeat.is_alive("beat")
    assert scheduler.tick() <= 5
    assert heartbeat.is_alive("beat")


class _Entry:
    def __init__(self, task: str, **options) -> None:
        self.task, self.options = task, options


@pytest.fixture
def sent(monkeypatch):
    """What reaches DatabaseScheduler.apply_async (the broker), by task name."""
    from django_celery_beat.schedulers import DatabaseScheduler

    names: list[str] = []
    monkeypatch.setattr(
        DatabaseScheduler,
        "apply_async",
        lambda self, entry, producer=None, advance=True, **kw: names.append(entry.task) or "id",
    )
    return names


def test_a_periodic_task_waits_in_the_broker_once_until_a_worker_starts_it(sent):
    from types import SimpleNamespace

    from taskplatform.celery import _beat_pending_clear

    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    for _ in range(3):  # the workers are busy: beat's ticks send the first one only
        scheduler.apply_async(_Entry("notifications.publish"), advance=False)
    scheduler.apply_async(_Entry("digests.plan"), advance=False)
    assert sent == ["notifications.publish", "digests.plan"]

    started = SimpleNamespace(
        name="notifications.publish", request=SimpleNamespace(celery_beat_task=True)
    )
    _beat_pending_clear(task=started)
    scheduler.apply_async(_Entry("notifications.publish"), advance=False)
    assert sent == ["notifications.publish", "digests.plan", "notifications.publish"]


def test_a_task_not_sent_by_beat_leaves_the_mark_alone(sent):
    from types import SimpleNamespace

    from taskplatform.celery import _beat_pending_clear

    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    scheduler.apply_async(_Entry("jobs.sweep"), advance=False)
    _beat_pending_clear(task=SimpleNamespace(name="jobs.sweep", request=SimpleNamespace()))
    scheduler.apply_async(_Entry("jobs.sweep"), advance=False)
    assert sent == ["jobs.sweep"]


def test_the_mark_lapses_after_its_timeout(sent, settings):
    from django.core.cache import cache

    from taskplatform.beat import pending_key

    settings.BEAT_PENDING_TIMEOUT = 60
    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    scheduler.apply_async(_Entry("jobs.sweep"), advance=False)
    cache.delete(pending_key("jobs.sweep"))  # as the timeout would: the message was lost
    scheduler.apply_async(_Entry("jobs.sweep"), advance=False)
    assert sent == ["jobs.sweep", "jobs.sweep"]


def test_a_send_that_fails_leaves_no_mark(monkeypatch):
    from django.core.cache import cache
    from django_celery_beat.schedulers import DatabaseScheduler

    from taskplatform.beat import pending_key

    def refuse(self, entry, producer=None, advance=True, **kw):
        raise ConnectionError("broker down")

    monkeypatch.setattr(DatabaseScheduler, "apply_async", refuse)
    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    with pytest.raises(ConnectionError):
        scheduler.apply_async(_Entry("jobs.dispatch"), advance=False)
    assert cache.get(pending_key("jobs.dispatch")) is None


def test_the_mark_lasts_as_long_as_the_message_can_wait(sent, settings):
    from django.core.cache import cache

    from taskplatform.beat import pending_key

    settings.BEAT_PENDING_TIMEOUT = 120
    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    scheduler.apply_async(_Entry("notifications.publish", expires=10), advance=False)
    scheduler.apply_async(_Entry("jobs.sweep"), advance=False)
    ttl = getattr(cache, "ttl", None)
    if ttl is not None:  # django-redis
        assert 0 < ttl(pending_key("notifications.publish")) <= 10
        assert 10 < ttl(pending_key("jobs.sweep")) <= 120
