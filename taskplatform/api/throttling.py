"""Rate limits as DRF throttles, counted by django-ratelimit in the shared cache.

Counting in the cache (Redis when configured) makes a limit hold across every web process.
Rates come from settings.RATELIMITS, so operators tune them by environment.

If the cache is unreachable the limits fail open (logged): a Redis outage must not turn
every API call into an error, and the database outbox keeps accepting work meanwhile.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from django.conf import settings
from django_ratelimit.core import get_usage
from django_redis.exceptions import ConnectionInterrupted
from rest_framework.throttling import BaseThrottle

from taskplatform.net import client_ip

log = logging.getLogger(__name__)
# what an unreachable cache raises (Redis through django-redis; the file cache: OSError);
# anything else, a wrong rate in the settings say, is a bug and is not hidden
CACHE_DOWN = (ConnectionInterrupted, redis.RedisError, OSError)
_LOG_EVERY_SECONDS = 10.0
_last_logged = 0.0


def _log_fail_open(exc: Exception) -> None:
    """One warning per process every few seconds, not one per request of an outage."""
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        log.warning("rate limits not enforced: the cache is unreachable (%s)", exc)


def _ip_key(group, request) -> str:
    return client_ip(request) or "unknown"


def _user_or_ip_key(group, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{_ip_key(group, request)}"


def _email_key(group, request) -> str:
    data: Any = getattr(request, "data", None)  # a QueryDict, a dict or a parsed list
    email = data.get("email") if hasattr(data, "get") else None
    return str(email).strip().lower()[:254] if email else ""


class _RateThrottle(BaseThrottle):
    """Throttle on each (group, key) of `limits`; the first exhausted one answers 429."""

    rate_name = ""
    limits: tuple[tuple[str, object], ...] = ()

    def allow_request(self, request, view) -> bool:
        self._wait = None
        rate = settings.RATELIMITS[self.rate_name]
        for group, key in self.limits:
            if key is _email_key and not _email_key(group, request):
                continue
            try:
                usage = get_usage(
                    request._request,
                    group=group,
                    key=lambda g, r, key=key: key(g, request),
                    rate=rate,
                    increment=True,
                )
            except CACHE_DOWN as exc:  # the counters' store is down: fail open
                _log_fail_open(exc)
                return True
            if usage and usage["should_limit"]:
                self._wait = usage["time_left"]
                return False
        return True

    def wait(self) -> float | None:
        return self._wait


class ApiRateThrottle(_RateThrottle):
    """The generous default for every API call: per user, or per IP when anonymous."""

    rate_name = "api"
    limits = (("api", _user_or_ip_key),)


class AuthRateThrottle(_RateThrottle):
    """Strict limit for login and register: per client IP and per submitted email."""

    rate_name = "auth"

    def __init__(self, scope: str = "auth") -> None:
        self.limits = ((f"{scope}-ip", _ip_key), (f"{scope}-email", _email_key))


class LoginRateThrottle(AuthRateThrottle):
    def __init__(self) -> None:
        super().__init__("login")


class RegisterRateThrottle(AuthRateThrottle):
    def __init__(self) -> None:
        super().__init__("register")
