"""Reading what a WebSocket client of the live process gets (the process itself is the
shared `live_process` fixture, taskplatform/testing/fixtures.py)."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection


def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def receive_event(
    ws: ClientConnection, timeout: float = 5.0, object_type: str | None = None
) -> dict[str, Any]:
    """The next event (of `object_type`; control messages, live.*, skipped)."""
    while True:
        message = receive(ws, timeout)
        if "id" in message and object_type in (None, message["object_type"]):
            return message


def nothing_more(ws: ClientConnection, wait: float = 0.6) -> bool:
    try:
        ws.recv(timeout=wait)
    except TimeoutError:
        return True
    return False
