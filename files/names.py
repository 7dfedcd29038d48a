"""Client file names made safe to store and show: no path parts, no control characters."""

from __future__ import annotations

import unicodedata

from .models import MAX_NAME_LENGTH

FALLBACK = "unnamed"


def sanitize_name(raw: str | None) -> str:
    """The last path component, NFC-normalised, without control/format characters, capped.

    The result is only ever a label: blobs are stored under a generated key.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if not name:
        return FALLBACK
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name
