"""Logging filter that stamps every record with the current request id."""

from __future__ import annotations

import logging

from .context import current_request_id


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs after the middleware has finished: read the id off the request
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current_request_id() or None
        return True
