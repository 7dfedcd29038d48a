"""The pytest fixtures every app's tests share, registered once as a plugin (root conftest.py).

Users and API clients; the Django admin; a real SMTP server; the Celery app out of eager
mode, a real worker on the real broker and a redis-server of a test's own; local file
storage; Debian's chromium. A test module or conftest asks for them by name and never
imports them from another test module.

REQUIRE_SERVICES=1 (CI) turns a missing service into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.db import connections

from taskplatform.testing import (
    PASSWORD,
    LiveProcess,
    PrivateRedis,
    child_database_url,
    client_for,
    free_port,
    use_broker,
    wait_for,
)

if TYPE_CHECKING:
    from django.test import Client
    from playwright.sync_api import Browser
    from pytest_django.fixtures import Settings
    from rest_framework.test import APIClient

    from accounts.models import User

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def _services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI (REQUIRE_SERVICES=1) the real PostgreSQL and Redis must be there: fail, never skip."""

    if not _services_required():
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but the database is {engine}")
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL is not set")
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Rate-limit counters and heartbeats must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


# --- Users and API clients --------------------------------------------------------------------


@pytest.fixture
def api_client() -> APIClient:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db: None) -> User:
    from accounts.tests.factories import UserFactory

    return UserFactory.create(password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> User:
    from accounts.tests.factories import UserFactory

    return UserFactory.create(password=PASSWORD)


@pytest.fixture
def staff_user(db: None) -> User:
    from accounts.tests.factories import UserFactory

    return UserFactory.create(password=PASSWORD, is_staff=True)


@pytest.fixture
def user_client(user: User) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user: User) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def staff_client(staff_user: User) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    """The Django admin, logged in as a superuser (root@example.com)."""
    from accounts.models import User

    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


# --- Local file storage -----------------------------------------------------------------------


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    """An empty local storage and upload temp folder of the test's own.

    Not autouse here: the conftests of the apps that store files (files, tasks, jobs,
    operations) make it autouse for their tests.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    return tmp_path / "media"


# --- A real SMTP server -----------------------------------------------------------------------


class RecordingHandler:
    """A real SMTP server's DATA handler: keeps every message; can refuse the first N."""

    def __init__(self) -> None:
        self.messages: list[Any] = []  # aiosmtpd Envelopes
        self.refuse_next: list[str] = []  # SMTP replies to give instead of accepting
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_next:
            return self.refuse_next.pop(0)
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[RecordingHandler]:
    """aiosmtpd on a free port, and Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    from notifications import delivery

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    handler.port = controller.port
    yield handler
    delivery.close_connection()
    controller.stop()


# --- Celery: out of eager mode, a real worker, a broker of the test's own ---------------------


@pytest.fixture
def not_eager() -> Iterator[None]:
    """Tasks go to the broker instead of running inline (the test settings run them eagerly)."""
    from taskplatform.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def real_worker(not_eager: None) -> Iterator[None]:
    """A Celery worker (solo pool, in a thread of this process) consuming the real broker."""
    from celery.contrib.testing.worker import start_worker

    from taskplatform.celery import app as celery_app

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server the test may stop and restart (not started yet: the test does that).

    Afterwards it is stopped and the Celery app points at the broker it had before.
    """
    if shutil.which("redis-server") is None:
        if _services_required():
            pytest.fail("redis-server is needed for the broker outage test")
        pytest.skip("redis-server is not installed")
    from taskplatform.celery import app as celery_app

    broker = PrivateRedis()
    original = celery_app.conf.broker_url
    yield broker
    if broker.process and broker.process.poll() is None:
        broker.stop()
    use_broker(original)


# --- A real browser ---------------------------------------------------------------------------


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (which never downloads a browser of its own)."""
    if not shutil.which(CHROMIUM):
        if _services_required():
            pytest.fail(f"{CHROMIUM} is needed for the browser test (make browser)")
        pytest.skip(f"{CHROMIUM} is not installed (make browser)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls that follow
    # are still plain synchronous calls
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # ORM calls made while Playwright's loop ran used their own connections
            connections.close_all()


# --- The live process -------------------------------------------------------------------------


@pytest.fixture
def live_process(transactional_db: None, tmp_path: Path) -> Iterator[LiveProcess]:
    """`python -m live`, as the Procfile runs it, on the test database (and REDIS_URL's
    Redis when set; else it polls the database)."""
    port = free_port()
    log = tmp_path / "live.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.test",
        "DATABASE_URL": child_database_url(),
        "HOST": "127.0.0.1",
        "LIVE_PORT": str(port),
        "LIVE_POLL_SECONDS": "0.05",
        "LIVE_CATCHUP_SECONDS": "0.5",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "live"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
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
