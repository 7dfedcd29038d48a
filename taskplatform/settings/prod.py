"""Production: no default secrets, HTTPS everywhere, JSON logs."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = False

if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith(("dev-", "test-")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

# The TLS proxy in front says the request came over https (only it may reach gunicorn).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def _on_unless_turned_off(name: str) -> bool:
    # an empty variable counts as unset (as everywhere), never as false
    return env.bool(name) if env.str(name, default="") else True


# All three on unless turned off: a trial over plain http with no TLS proxy (the compose
# file's defaults) sets them false, or the browser is sent to https and cookies are lost.
SECURE_SSL_REDIRECT = _on_unless_turned_off("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = _on_unless_turned_off("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = _on_unless_turned_off("CSRF_COOKIE_SECURE")
# health checks come over plain HTTP from the orchestrator (taskplatform.health.ProbeMiddleware
# answers them before SecurityMiddleware anyway); so does the Prometheus scraper
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
