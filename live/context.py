"""The address of /ws/ for the pages: a template context processor, and the CSP source the
pages need to connect there (taskplatform.middleware adds it to connect-src)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def live_ws_url(request: HttpRequest) -> str:
    """LIVE_WS_URL, or ws(s)://<the host the page came from>:LIVE_PORT/ws/ (the live process
    beside the web one, as `make run` and the compose file run it)."""
    if settings.LIVE_WS_URL:
        return settings.LIVE_WS_URL
    scheme = "wss" if request.is_secure() else "ws"
    host = urlsplit(f"//{request.get_host()}").hostname or "localhost"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{scheme}://{host}:{settings.LIVE_PORT}/ws/"


def live_connect_source(request: HttpRequest) -> str:
    """The CSP source (scheme://host:port) of live_ws_url: what connect-src must allow."""
    parts = urlsplit(live_ws_url(request))
    return f"{parts.scheme}://{parts.netloc}"


def live_settings(request: HttpRequest) -> dict[str, str]:
    """`live_ws_url` for the base template's <script … data-ws-url="{{ live_ws_url }}">."""
    return {"live_ws_url": live_ws_url(request)}
