"""django-celery-beat's DatabaseScheduler, plus a heartbeat so readiness can see beat is alive."""

from __future__ import annotations

import time

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeat import beat


class HeartbeatScheduler(DatabaseScheduler):
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= settings.HEARTBEAT_INTERVAL:
            beat("beat")
            self._last_beat = now
        # never sleep past the next heartbeat, even when no task is due for an hour
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_INTERVAL)
