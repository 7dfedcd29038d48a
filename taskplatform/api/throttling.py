"""Rate limits as DRF throttles, counted by django-ratelimit in the shared cache.

Counting in the cache (Redis when configured) makes a limit hold across every web process;
on Redis every limit of a throttle is counted in one round trip (rate_counts.py).
Rates come from settings.RATELIMITS, so operators tune them by environment.

If the cache is unreachable the limits fail open (logged): a Redis outage must not turn
every API call into an error, and the database outbox keeps accepting work meanwhile.

Every answer that went through a throttle says where the caller stands (X-RateLimit-Limit,
-Remaining, -Reset: the tightest of its limits), except on the account endpoints: they must
not tell a guesser how many attempts are left, so they send Retry-After on a 429 only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django_redis.exceptions import ConnectionInterrupted
from rest_framework.throttling import BaseThrottle

from taskplatform.logging import WarnEvery
from taskplatform.net import client_ip

from .rate_counts import usages_count

log = logging.getLogger(__name__)
# what an unreachable cache raises (Redis through django-redis; the file cache: OSError);
# anything else, a wrong rate in the settings say, is a bug and is not hidden
CACHE_DOWN = (ConnectionInterrupted, redis.RedisError, OSError)
_log_fail_open = WarnEvery(log, "rate limits not enforced: the cache is unreachable (%s)")


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


def _email_or_caller_key(group, request) -> str:
    """The submitted email, else the signed-in caller's (resend without a body)."""
    if email := _email_key(group, request):
        return email
    user = getattr(request, "user", None)
    return user.email if user is not None and user.is_authenticated else ""


def _ip_email_key(group, request) -> str:
    email = _email_key(group, request)
    return f"{_ip_key(group, request)}|{email}" if email else ""


_NEEDS_EMAIL = (_email_key, _email_or_caller_key, _ip_email_key)


@dataclass(frozen=True)
class Usage:
    """Where a caller stands against one limit."""

    limit: int
    remaining: int
    reset: int  # seconds until the window starts again


class _RateThrottle(BaseThrottle):
    """Throttle on each (group, key, rate name) of `limits`; the first exhausted one
    answers 429 with Retry-After. `discloses_usage = False` keeps the X-RateLimit headers
    off the whole answer (attempts left must not show)."""

    limits: tuple[tuple[str, Any, str], ...] = ()
    discloses_usage = True

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if not self.discloses_usage:
            request._request.rate_limit_undisclosed = True
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return True
        checks = []
        for group, key, rate_name in self.limits:
            value = key(group, request)
            if key in _NEEDS_EMAIL and not value:
                continue
            checks.append((group, value, settings.RATELIMITS[rate_name]))
        try:
            usages = usages_count(request._request, checks)
        except CACHE_DOWN as exc:  # the counters' store is down: fail open
            _log_fail_open(exc)
            return True
        for usage in usages:
            # on the Django request, where RateLimitHeadersMiddleware finds them
            vars(request._request).setdefault("rate_limit_usages", []).append(
                Usage(
                    limit=usage["limit"],
                    remaining=max(0, usage["limit"] - usage["count"]),
                    reset=max(1, usage["time_left"]),  # as Retry-After rounds it
                )
            )
            if usage["should_limit"]:
                self._wait = usage["time_left"]
                return False
        return True

    def wait(self) -> float | None:
        return self._wait


class ApiRateThrottle(_RateThrottle):
    """The generous default for every API call: per user, or per IP when anonymous."""

    limits = (("api", _user_or_ip_key, "api"),)


class LoginRateThrottle(_RateThrottle):
    """Password guessing. The lockout is per (client address, email) pair, so wrong
    passwords typed against an account from one address never lock its owner out from
    another. Per email alone the limit is far higher (a guesser spread over many addresses),
    and per address alone higher too (one host spraying many accounts; several people
    behind one NAT still log in)."""

    discloses_usage = False
    limits = (
        ("login-pair", _ip_email_key, "auth"),
        ("login-ip", _ip_key, "login_ip"),
        ("login-email", _email_key, "login_email"),
    )


class RegisterRateThrottle(_RateThrottle):
    """Sign-ups: per client address and per submitted email. A sign-up mails the address
    (verification, "someone tried to register"), so it counts against the address's
    account-mail limit too."""

    discloses_usage = False
    limits = (
        ("register-ip", _ip_key, "auth"),
        ("register-email", _email_key, "auth"),
        ("account-mail-email", _email_key, "account_mail_email"),
    )


class AccountMailRateThrottle(_RateThrottle):
    """Asking for account mail (a verification email again, a password reset link): per
    client address, and per address mailed — one counter for every flow, so nobody can
    flood someone's inbox through them."""

    discloses_usage = False
    limits = (
        ("account-mail-ip", _ip_key, "account_mail_ip"),
        ("account-mail-email", _email_or_caller_key, "account_mail_email"),
    )


class AccountTokenRateThrottle(_RateThrottle):
    """Presenting an emailed token (verify an address, set a new password): per client
    address. The tokens are signed, so this only keeps a prober's cost bounded."""

    discloses_usage = False
    limits = (("account-token-ip", _ip_key, "account_token"),)


class RateLimitHeadersMiddleware:
    """X-RateLimit-Limit / -Remaining / -Reset of the tightest limit the request was counted
    against (fewest calls left; then the longest wait), on any answer, a 429 included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        usages = getattr(request, "rate_limit_usages", None)
        if usages and not getattr(request, "rate_limit_undisclosed", False):
            tightest = min(usages, key=lambda u: (u.remaining, -u.reset))
            response["X-RateLimit-Limit"] = str(tightest.limit)
            response["X-RateLimit-Remaining"] = str(tightest.remaining)
            response["X-RateLimit-Reset"] = str(tightest.reset)
        return response
