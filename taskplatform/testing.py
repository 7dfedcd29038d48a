"""Small helpers shared by tests and benchmarks (real servers on 127.0.0.1, polling)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll until `predicate()` is true or `timeout` seconds pass; returns its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class PrivateRedis:
    """A redis-server of a test's own on a free port, so the test can stop and restart it.

    With `persist_dir`, it keeps its data append-only there (as docker-compose.yml runs
    Redis), so what was queued survives a restart.
    """

    def __init__(self, persist_dir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persist_dir = persist_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        persistence = ["--appendonly", "no"]
        if self.persist_dir is not None:
            self.persist_dir.mkdir(parents=True, exist_ok=True)
            persistence = ["--appendonly", "yes", "--dir", str(self.persist_dir)]
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments
            [  # noqa: S607 - redis-server from the PATH, as CI installs it
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        assert wait_for(lambda: _pings(client), timeout=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
