"""A URL path type for database ids that can't overflow a BIGINT column.

Huge numbers would otherwise reach the database and fail there (a 500 on SQLite).
"""

from __future__ import annotations

from taskplatform.models import MAX_ID

__all__ = ["MAX_ID", "IdConverter"]


class IdConverter:
    """`<id:pk>`: 1 to 18 digits, always within BIGINT."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
