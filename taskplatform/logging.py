"""Logging filters (the request id on every record, quiet ticks) and WarnEvery."""

from __future__ import annotations

import logging
import time

from .context import current_request_id


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs after the middleware has finished: read the id off the request
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current_request_id() or None
        return True


class QuietTicksFilter(logging.Filter):
    """Drop the INFO lines Celery writes for every tick of the once-a-second publisher (the
    notifications publisher).

    Beat's "Sending due task" and the worker's "received" / "succeeded" would otherwise be
    three lines a second each; their warnings and errors still get through.
    """

    TICKS = (
        "notifications.publish",
        "notifications: publisher",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not record.name.startswith("celery"):
            return True
        text = record.getMessage() if record.args else str(record.msg)
        if any(tick in text for tick in self.TICKS):
            return False
        data = getattr(record, "data", None)
        return not (isinstance(data, dict) and data.get("name") in self.TICKS)


class NotAnOutageFilter(logging.Filter):
    """Keeps 503s out of the ADMINS mail: during an outage every request answers 503, and one
    synchronous email each (from inside the request) would only make the outage worse. They
    are still logged; the health watch tells operators about the outage itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503


class WarnEvery:
    """A warning logged at most once every `seconds` by a process: one line per outage of a
    shared service (the cache), not one per request during it. Call it with the error."""

    def __init__(self, logger: logging.Logger, message: str, seconds: float = 10.0) -> None:
        self.logger, self.message, self.seconds = logger, message, seconds
        self.last = float("-inf")

    def __call__(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            self.logger.warning(self.message, exc)
