"""The live process as a real subprocess (`python -m live`, as the Procfile runs it) on the
test database, and WebSocket clients for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from websockets.sync.client import ClientConnection, connect

from taskplatform.testing import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, as a URL another process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


class LiveProcess:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.url = f"ws://127.0.0.1:{port}/ws/"

    def connect(
        self, query: str = "", *, token: str | None = None, **kwargs: Any
    ) -> ClientConnection:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        return connect(self.url + query, additional_headers=headers, open_timeout=10, **kwargs)


@pytest.fixture
def live_process(transactional_db: None, tmp_path: Path) -> Iterator[LiveProcess]:
    port = free_port()
    log = tmp_path / "live.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.test",
        "DATABASE_URL": database_url(),
        "HOST": "127.0.0.1",
        "LIVE_PORT": str(port),
        "LIVE_POLL_SECONDS": "0.05",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "live"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return process.poll() is not None

    try:
        assert wait_for(answering, timeout=60) and process.poll() is None, log.read_text()
        yield LiveProcess(port, log)
    finally:
        process.terminate()
        process.wait(timeout=20)
        print(log.read_text()[-3000:])


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
