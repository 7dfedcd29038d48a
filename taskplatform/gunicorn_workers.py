"""gunicorn workers that answer gunicorn's own refusals in the API's JSON error envelope.

gunicorn refuses some requests before Django sees them — a request line longer than
`limit_request_line` (414), too many or too large headers (431), a malformed request line or
header (400) — and answers with a small HTML page. These workers keep every decision gunicorn
makes (which status, the warning it logs, the access log) and change only what goes on the
wire: the envelope of every other error, with `request_id` null since no request id exists
yet for a request that was never parsed.

gunicorn.conf.py picks the sync or the threaded one, as gunicorn itself would. Imported by
the gunicorn master: nothing here may touch Django.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

# status -> (code, message); codes the API already uses where one fits
ERRORS = {
    400: ("bad_request", "The request was rejected."),
    403: ("permission_denied", "The request was refused."),
    414: (
        "uri_too_long",
        "The request line (method, path and query string) is longer than the server accepts.",
    ),
    417: ("expectation_failed", "The Expect header of the request can't be met."),
    431: ("headers_too_large", "The request headers are larger than the server accepts."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
    501: ("not_implemented", "The request uses a transfer coding the server does not support."),
}


def error_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 response carrying the error envelope; the connection then closes."""
    fallback = ("bad_request" if status < 500 else "server_error", reason)
    code, message = ERRORS.get(status, fallback)
    body = json.dumps(
        {"error": {"code": code, "message": message, "details": {}, "request_id": None}}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class _StatusCatcher:
    """Stands in for the client socket while gunicorn writes its HTML error page: keeps the
    status line and sends nothing. Anything it can't read goes out unchanged."""

    def __init__(self, sock):
        self._sock = sock
        self.status: int | None = None
        self.reason = ""

    def sendall(self, data) -> None:
        if self.status is not None:
            return  # the rest of the page, should gunicorn ever write it in parts
        first_line = bytes(data).split(b"\r\n", 1)[0].decode("latin-1")  # HTTP/1.1 414 URI …
        parts = first_line.split(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            self.status, self.reason = int(parts[1]), parts[2]
        else:
            self._sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


if TYPE_CHECKING:
    # gunicorn ships no types; the mixin goes on its workers (super().handle_error, self.log)
    from typing import Any as _Worker
else:
    _Worker = object


class JsonErrorsMixin(_Worker):
    def handle_error(self, req, client, addr, exc):
        catcher = _StatusCatcher(client)
        super().handle_error(req, catcher, addr, exc)
        if catcher.status is None:
            return
        try:
            util.write_nonblock(client, error_response(catcher.status, catcher.reason))
        except Exception:
            self.log.debug("Failed to send error message.")


# The names end in SyncWorker / ThreadWorker like gunicorn's: with --threads > 1 on the command
# line gunicorn then still swaps a sync class for its threaded worker instead of ignoring it.
class JsonErrorsSyncWorker(JsonErrorsMixin, SyncWorker):
    pass


class JsonErrorsThreadWorker(JsonErrorsMixin, ThreadWorker):
    pass
