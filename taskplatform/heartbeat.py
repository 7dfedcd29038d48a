"""Liveness beacons of the worker and beat processes, kept in the shared cache."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

KEY = "heartbeat:{}"


def beat(process: str) -> None:
    """Record that `process` ("worker" or "beat") is alive now. Never raises."""
    try:
        cache.set(KEY.format(process), time.time(), timeout=settings.HEARTBEAT_MAX_AGE * 10)
    except Exception:  # a cache outage must not kill the worker or beat
        log.warning("could not record the %s heartbeat", process, exc_info=True)


def age(process: str) -> float | None:
    """Seconds since `process` last beat, or None if never seen."""
    last = cache.get(KEY.format(process))
    return None if last is None else max(0.0, time.time() - last)


def is_alive(process: str) -> bool:
    seconds = age(process)
    return seconds is not None and seconds <= settings.HEARTBEAT_MAX_AGE
