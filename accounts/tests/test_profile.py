"""user_profile_update: what is given changes, what is not stays, and only changes are audited."""

from __future__ import annotations

import pytest

from accounts.services import user_profile_update
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_only_the_given_fields_change(user):
    name = user.full_name
    user_profile_update(user=user, actor=user, timezone="Asia/Tokyo")
    user.refresh_from_db()
    assert (user.full_name, user.timezone) == (name, "Asia/Tokyo")
    event = AuditEvent.objects.get(action="user.updated")
    assert event.details == {"changed": {"timezone": {"from": "UTC", "to": "Asia/Tokyo"}}}


def test_an_empty_name_clears_it(user):
    user_profile_update(user=user, actor=user, full_name="")
    user.refresh_from_db()
    assert user.full_name == ""


def test_nothing_changed_is_not_audited(user):
    user_profile_update(user=user, actor=user, full_name=user.full_name, timezone=user.timezone)
    user_profile_update(user=user, actor=user)
    assert not AuditEvent.objects.filter(action="user.updated").exists()
