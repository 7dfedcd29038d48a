from __future__ import annotations

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/change-password/"


def test_it_changes_the_password_and_kills_every_earlier_refresh_token(
    user_client, api_client, user, password
):
    earlier = [str(RefreshToken.for_user(user)) for _ in range(3)]
    response = user_client.post(
        URL,
        {"current_password": password, "new_password": "a-brand-new-passphrase"},
        format="json",
    )
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")
    for token in earlier:
        refreshed = api_client.post("/api/v1/auth/refresh/", {"refresh": token}, format="json")
        assert refreshed.status_code == 401
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.details["refresh_tokens_revoked"] == 3
    login = api_client.post(
        "/api/v1/auth/login/",
        {"email": user.email, "password": "a-brand-new-passphrase"},
        format="json",
    )
    assert login.status_code == 200
    # tokens issued after the change work
    again = api_client.post(
        "/api/v1/auth/refresh/", {"refresh": login.json()["refresh"]}, format="json"
    )
    assert again.status_code == 200


def test_it_rejects_a_wrong_current_password_and_changes_nothing(user_client, user, password):
    response = user_client.post(
        URL,
        {"current_password": "wrong", "new_password": "a-brand-new-passphrase"},
        format="json",
    )
    assert response.status_code == 400
    assert "current_password" in response.json()["error"]["details"]
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.parametrize("weak", ["short", "12345678901", "password123"])
def test_it_applies_the_password_validators(user_client, user, password, weak):
    response = user_client.post(
        URL, {"current_password": password, "new_password": weak}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["new_password"]
    user.refresh_from_db()
    assert user.check_password(password)


def test_it_needs_authentication(api_client):
    response = api_client.post(URL, {"current_password": "a", "new_password": "b"}, format="json")
    assert response.status_code == 401
