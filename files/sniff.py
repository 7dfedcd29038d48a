"""Content type from the file's first bytes, never from what the client claims."""

from __future__ import annotations

import filetype

SNIFF_BYTES = 8192
OCTET_STREAM = "application/octet-stream"


def sniff_content_type(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if b"\x00" in head:
        return OCTET_STREAM
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sniff window is still text
        if exc.start < len(head) - 4:
            return OCTET_STREAM
    return "text/plain"
