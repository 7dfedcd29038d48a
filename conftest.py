"""Shared pytest fixtures: API clients, users and their tokens."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and heartbeats must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def other_user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def staff_user(db):
    return UserFactory(password=PASSWORD, is_staff=True)


def _client_for(user) -> APIClient:
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    client.user = user
    return client


@pytest.fixture
def user_client(user) -> APIClient:
    return _client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return _client_for(other_user)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return _client_for(staff_user)


def pytest_sessionstart(session):
    """In CI (REQUIRE_SERVICES=1) the real PostgreSQL and Redis must be there: fail, never skip."""

    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but the database is {engine}")
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL is not set")
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()


@pytest.fixture
def admin_client(client, db):
    """The Django admin, logged in as a superuser (root@example.com)."""
    from accounts.models import User

    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium driven by Playwright (which never downloads a browser of its own)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_SERVICES") == "1":
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
