"""Per-request (or per-Celery-task) context: request id and client IP, for logs and audit."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def clean_request_id(candidate: str | None) -> str:
    """The caller's id when it is safe to echo and log, else a new one."""
    if candidate and _SAFE_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()


def current_client_ip() -> str | None:
    return client_ip_var.get()
