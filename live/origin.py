"""Cross-site WebSocket hijacking: a page on another site may open a WebSocket to us and
the browser sends our session cookie along. Browsers always send Origin: one that is not
one of ALLOWED_HOSTS (any port, as the live process runs on its own) is refused. Clients
that send no Origin are not browsers, and bring no ambient cookie: they pass (and need a
token or the cookie of their own)."""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class OriginCheck(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)
