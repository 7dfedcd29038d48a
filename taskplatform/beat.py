"""django-celery-beat's DatabaseScheduler, plus a heartbeat so readiness can see beat is alive,
and at most one waiting message per periodic task.

Every periodic task here is a sweep: one that has not started yet makes the next one
redundant. When the workers are busy (a million digests going out), beat's every-second
publisher would otherwise pile up in the `maintenance` queue faster than the workers take
from it, and the minute sweeps behind that pile would expire before a worker reached them:
the digest planner starved until the senders were done. So beat marks a task pending in the
cache when it sends it (`cache.add`), the worker clears the mark as the task starts
(`pending_clear`, taskplatform/celery.py), and beat sends nothing while it is set. The mark
lapses when the message expires (a worker discards it unstarted), or after
BEAT_PENDING_TIMEOUT for one that was lost.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeat import beat

log = logging.getLogger(__name__)


def pending_key(task_name: str) -> str:
    return f"beat:pending:{task_name}"


def pending_clear(task_name: str) -> None:
    """A periodic task started: beat may send the next one."""
    try:
        cache.delete(pending_key(task_name))
    except Exception:  # the cache is down: the mark expires by itself
        log.warning("could not clear %s's pending mark", task_name, exc_info=True)


class HeartbeatScheduler(DatabaseScheduler):
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= settings.HEARTBEAT_INTERVAL:
            beat("beat")
            self._last_beat = now
        # never sleep past the next heartbeat, even when no task is due for an hour
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_INTERVAL)

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        key = pending_key(entry.task)
        try:
            fresh = cache.add(key, 1, timeout=_pending_timeout(entry))
        except Exception:  # the cache is down: send (the broker decides)
            log.warning("beat could not check %s's pending mark", entry.task, exc_info=True)
            fresh = True
        if not fresh:
            log.debug("%s: the last one has not started, not sent again", entry.task)
            return None
        try:
            return super().apply_async(entry, producer, advance, **kwargs)
        except Exception:
            pending_clear(entry.task)  # nothing was sent
            raise


def _pending_timeout(entry) -> float:
    """How long a sent message counts as waiting: until it expires (a worker discards it
    unstarted then), else BEAT_PENDING_TIMEOUT."""
    expires = getattr(entry, "options", {}).get("expires")
    if isinstance(expires, (int, float)) and expires > 0:
        return min(float(expires), settings.BEAT_PENDING_TIMEOUT)
    return settings.BEAT_PENDING_TIMEOUT
