"""Validators shared by several apps' models."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

LINE_BREAKS = {"\u2028", "\u2029"}  # line and paragraph separators


def validate_one_line(value: str) -> None:
    """One line of text (a name, a title): no control characters — NUL, escape sequences,
    tabs — and no line breaks, which would break an email's subject or a log line."""
    if any(unicodedata.category(c) == "Cc" or c in LINE_BREAKS for c in value):
        raise ValidationError(
            "Control characters and line breaks are not allowed here.", code="control_characters"
        )
