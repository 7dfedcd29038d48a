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
