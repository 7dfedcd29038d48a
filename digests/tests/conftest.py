"""What the digest tests share: a user in Berlin who asked for the digest at 09:00, and the
clock at 09:10 of a summer day there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from notifications.models import NotificationPreference

NOW = datetime(2026, 6, 1, 7, 10, tzinfo=UTC)  # 09:10 in Berlin (CEST); the day: 22:00 to 22:00


@pytest.fixture
def berliner():
    user = UserFactory(timezone="Europe/Berlin", full_name="Ada")
    NotificationPreference.objects.create(user=user, daily_digest=True, digest_hour=9)
    return user


@pytest.fixture
def at_nine(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
