"""Counting a request against its rate limits: one Redis round trip for all of them.

django-ratelimit's get_usage costs two round trips a limit on Redis (ADD, then INCR as a
script) — a third of an authenticated `GET /auth/me/`. On Redis one script does what it
does, for every limit of a throttle at once: the same keys (its windows and key names, so
counters carry over a deploy), the same expiry, and the same stop at the first exhausted
limit (later ones are not counted, as when get_usage was called one limit at a time).
Other caches (the embedded default's files, locmem) go through get_usage as before.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate
from django_ratelimit.core import get_usage as ratelimit_get_usage
from django_redis.cache import RedisCache

# KEYS: the counters; ARGV: expiry seconds and limit of each, in turn
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[2 * i - 1]) end
  counts[i] = n
  if n > tonumber(ARGV[2 * i]) then break end
end
return counts
"""


def usages_count(request: Any, checks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Count one hit against each (group, key value, rate) of `checks`, in order, up to and
    including the first one over its limit; get_usage's answer for each one counted.
    Raises what the cache raises when it is unreachable."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if not isinstance(cache, RedisCache):
        return _one_by_one(request, checks)
    keys, argv, limits, windows = [], [], [], []
    for group, value, rate in checks:
        limit, period = _split_rate(rate)
        window = _get_window(value, period)
        keys.append(cache.client.make_key(_make_cache_key(group, window, rate, value, ALL)))
        argv += [period + EXPIRATION_FUDGE, limit]
        limits.append(limit)
        windows.append(window)
    client = cache.client.get_client(write=True)
    counts = client.eval(_COUNT_SCRIPT, len(keys), *keys, *argv)
    now = int(time.time())
    return [
        {
            "count": count,
            "limit": limit,
            "should_limit": count > limit,
            "time_left": window - now,
        }
        for count, limit, window in zip(counts, limits, windows, strict=False)
    ]


def _one_by_one(request: Any, checks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    usages = []
    for group, value, rate in checks:
        usage = ratelimit_get_usage(
            request, group=group, key=lambda g, r, value=value: value, rate=rate, increment=True
        )
        if usage is None:
            continue
        usages.append(usage)
        if usage["should_limit"]:
            break
    return usages
