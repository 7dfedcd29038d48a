"""The one exception type domain code raises. It knows nothing of HTTP: the API maps its
`code` to a status (taskplatform/api/errors.py), the admin and the CLI show its message."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A domain rule was broken: `code` is stable for clients, `details` says where."""

    def __init__(
        self, message: str, *, code: str = "invalid", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}
