"""Cross-site WebSocket hijacking: a page on another site may open a WebSocket to us and
the browser sends our session cookie along. Browsers always send Origin: one that is not
one of ALLOWED_HOSTS (any port, as the live process runs on its own) is refused. Where
ALLOWED_HOSTS is `*` (`make run`), any host name serves the app, so the Origin must name the
very host the socket was opened to. Clients that send no Origin are not browsers, and bring
no ambient cookie: they pass (and need a token or the cookie of their own)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings


class OriginCheck(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, settings.ALLOWED_HOSTS)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        origin, host = headers.get(b"origin"), headers.get(b"host", b"")
        if origin is None or self.allows(origin.decode("latin1"), host.decode("latin1")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def allows(self, origin: str, host: str) -> bool:
        """A browser's page at `origin` may open a socket to `host` (the Host header)."""
        parsed = urlparse(origin)
        if "*" in self.allowed_origins:
            own = urlparse(f"//{host}").hostname
            return bool(parsed.hostname) and parsed.hostname == own
        return self.validate_origin(parsed)
