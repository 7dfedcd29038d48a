"""Small helpers shared by tests and benchmarks (real servers on 127.0.0.1, polling).

The shared pytest fixtures are in taskplatform.testing.fixtures, a plugin the root
conftest.py registers. Nothing here imports Django at import time: the benchmarks use
these helpers outside pytest.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework.test import APIClient

# every user the fixtures make has this password
PASSWORD = "correct-horse-battery-staple"


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


def client_for(user: AbstractBaseUser) -> APIClient:
    """An API client that sends `user`'s access token (and knows its user as `.user`)."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    client.user = user  # type: ignore[attr-defined]  # tests read who the client is
    return client


def stored_blobs(media: Path) -> list[Path]:
    """Every file under the local storage folder the `media` fixture made."""
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def use_broker(url: str) -> None:
    """Point the Celery app at another broker (e.g. a PrivateRedis)."""
    from taskplatform.celery import app as celery_app

    celery_app.conf.broker_url = url
    # drop pooled connections to the previous broker (what Celery does after a fork)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def child_database_url() -> str:
    """The test database as a URL another process (a worker, beat, the live process) opens."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


class LiveProcess:
    """The live process (`python -m live`) a test started: where it listens, its log, and
    WebSocket clients for it (the websockets library's sync client)."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.url = f"ws://127.0.0.1:{port}/ws/"

    def connect(self, query: str = "", *, token: str | None = None, **kwargs: Any) -> Any:
        from websockets.sync.client import connect

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        return connect(self.url + query, additional_headers=headers, open_timeout=10, **kwargs)
