from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_emails_are_stored_lower_cased_and_unique_in_any_case():
    user = User.objects.create_user(email="  Mixed@Case.COM ", password="x")
    assert user.email == "mixed@case.com"
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="MIXED@case.com")])


def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password="x")


def test_create_superuser_is_staff_and_superuser():
    admin = User.objects.create_superuser(email="root@example.com", password="x")
    assert admin.is_staff and admin.is_superuser
    assert str(admin) == "root@example.com"


def test_names():
    user = User(email="a@example.com", full_name="Ada Lovelace")
    assert user.get_full_name() == "Ada Lovelace" and user.get_short_name() == "Ada"
    anonymous = User(email="b@example.com")
    assert anonymous.get_full_name() == anonymous.get_short_name() == "b@example.com"


def test_timezone_is_validated_as_an_iana_zone():
    user = User(email="tz@example.com", timezone="Not/AZone")
    user.set_password("a-long-enough-password")
    with pytest.raises(ValidationError) as info:
        user.full_clean()
    assert "timezone" in info.value.message_dict
    user.timezone = "America/New_York"
    user.email = "TZ@Example.com"
    user.full_clean()
    assert user.email == "tz@example.com"


def test_natural_key_lookup_ignores_case():
    User.objects.create_user(email="nk@example.com", password="x")
    assert User.objects.get_by_natural_key("NK@EXAMPLE.COM").email == "nk@example.com"
