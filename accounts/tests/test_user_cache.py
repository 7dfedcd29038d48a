"""The signed-in user is read from the cache; every change of the user's row forgets it."""

from __future__ import annotations

from unittest import mock

import pytest
import redis
from django.core.cache import cache

from accounts import services
from accounts.authentication import _key, user_cache_get

pytestmark = pytest.mark.django_db(transaction=True)  # forgetting happens on commit too

ME = "/api/v1/auth/me/"


def _warm(client) -> None:
    """Cache the client's user (creating the user left a tombstone: let it expire)."""
    cache.delete(_key(client.user.pk))
    assert client.get(ME).status_code == 200
    assert isinstance(cache.get(_key(client.user.pk)), dict)


def test_a_cached_user_is_served_without_a_query(user_client, django_assert_num_queries):
    _warm(user_client)
    with django_assert_num_queries(0):
        assert user_client.get(ME).json()["email"] == user_client.user.email


def test_the_cache_holds_no_password_hash(user_client):
    _warm(user_client)
    assert "password" not in cache.get(_key(user_client.user.pk))


def test_a_deactivated_user_is_refused_at_once(user_client, staff_user):
    _warm(user_client)
    services.user_deactivate(user=user_client.user, actor=staff_user)
    response = user_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_deleted_user_is_refused_at_once(user_client, staff_user):
    _warm(user_client)
    services.user_delete(user=user_client.user, actor=staff_user)
    assert user_client.get(ME).status_code == 401


def test_a_profile_update_shows_at_once(user_client):
    _warm(user_client)
    user_client.patch(ME, {"full_name": "New Name", "timezone": "Asia/Tokyo"}, format="json")
    me = user_client.get(ME).json()
    assert (me["full_name"], me["timezone"]) == ("New Name", "Asia/Tokyo")


def test_a_staff_change_from_anywhere_shows_at_once(user_client):
    _warm(user_client)
    user = type(user_client.user).objects.get(pk=user_client.user.pk)
    user.is_staff = True
    user.save()  # the admin's way: a plain save
    assert user_client.get(ME).json()["is_staff"] is True


def test_change_password_works_with_a_cached_user(user_client, password):
    _warm(user_client)
    body = {"current_password": password, "new_password": "a-new-long-passphrase-42"}
    assert user_client.post("/api/v1/auth/change-password/", body).status_code == 204
    user = type(user_client.user).objects.get(pk=user_client.user.pk)
    assert user.check_password("a-new-long-passphrase-42")
    assert cache.get(_key(user.pk)) == "forgotten"  # and the next request reads it afresh


def test_a_read_in_flight_cannot_put_back_a_forgotten_row(user):
    """A request read the row just before a change: its copy must not reach the cache."""
    from accounts.authentication import User

    old = User.objects.filter(pk=user.pk).values().first()
    services.user_deactivate(user=user, actor=None)
    with mock.patch("accounts.authentication.User.objects.filter") as filter_:
        filter_.return_value.values.return_value.first.return_value = old
        user_cache_get(user_id=user.pk)  # what that request would do, with the old row
    fresh = user_cache_get(user_id=user.pk)
    assert fresh is not None and fresh.is_active is False


def test_a_cache_that_is_down_fails_open_to_the_database(user_client):
    with mock.patch.object(cache, "get", side_effect=redis.ConnectionError("down")):
        assert user_client.get(ME).status_code == 200


def test_forgetting_while_the_cache_is_down_does_not_fail_the_change(user_client):
    with mock.patch.object(cache, "set", side_effect=redis.ConnectionError("down")):
        services.user_profile_update(
            user=user_client.user, actor=user_client.user, full_name="Still Saved"
        )
    assert type(user_client.user).objects.get(pk=user_client.user.pk).full_name == "Still Saved"


def test_a_verified_token_still_expires(user):
    import time
    from datetime import timedelta

    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(ME).status_code == 200  # verified, and remembered
    time.sleep(1.1)
    assert client.get(ME).status_code == 401


def test_new_token_settings_forget_the_verified_tokens(user_client, settings):
    from accounts.authentication import _verified

    assert user_client.get(ME).status_code == 200
    assert _verified
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-key-" + "x" * 40}
    assert not _verified
