"""Register → login → me → refresh → logout, and every way a token can be bad."""

from __future__ import annotations

import time

import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def login(api_client, email, password):
    return api_client.post(LOGIN, {"email": email, "password": password}, format="json")


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_the_whole_flow_register_login_me_refresh_logout(api_client):
    created = api_client.post(
        REGISTER,
        {"email": "Ada@Example.com", "password": "an-excellent-passphrase", "full_name": "Ada"},
        format="json",
    )
    assert created.status_code == 202
    assert set(created.json()) == {"detail"}
    assert User.objects.get().email == "ada@example.com"

    tokens = login(api_client, "ADA@example.com", "an-excellent-passphrase").json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api_client.get(ME).json()
    assert set(me) == {
        "id",
        "email",
        "email_verified",
        "full_name",
        "timezone",
        "is_staff",
        "date_joined",
    }
    assert me["email"] == "ada@example.com" and me["timezone"] == "UTC"
    assert me["email_verified"] is False  # logging in doesn't wait for the verification

    rotated = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh"] != tokens["refresh"] and new["access"]

    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert_error(reused, 401, "invalid_token")

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {new['access']}")
    assert api_client.post(LOGOUT, {"refresh": new["refresh"]}, format="json").status_code == 204
    dead = api_client.post(REFRESH, {"refresh": new["refresh"]}, format="json")
    assert_error(dead, 401, "invalid_token")

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["user.registered", "user.verification_sent", "user.login", "user.logout"]


def test_register_with_a_taken_email_in_any_case_makes_no_second_account(api_client, user):
    response = api_client.post(
        REGISTER,
        {"email": user.email.upper(), "password": "an-excellent-passphrase"},
        format="json",
    )
    assert response.status_code == 202
    assert User.objects.count() == 1


def test_register_applies_django_password_validators(api_client):
    response = api_client.post(
        REGISTER, {"email": "bob@example.com", "password": "12345678"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert error["details"]["password"]
    assert not User.objects.exists()


def test_register_rejects_an_invalid_email_and_missing_fields(api_client):
    error = assert_error(
        api_client.post(REGISTER, {"email": "nope"}, format="json"), 400, "validation_error"
    )
    assert set(error["details"]) == {"email", "password"}


def test_login_failure_does_not_reveal_whether_the_email_exists(api_client, user):
    wrong_password = login(api_client, user.email, "not-the-password")
    unknown_email = login(api_client, "nobody@example.com", "not-the-password")
    first = assert_error(wrong_password, 401, "invalid_credentials")
    second = assert_error(unknown_email, 401, "invalid_credentials")
    assert first["message"] == second["message"]
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert failed.count() == 2
    assert {e.details["email"] for e in failed} == {user.email, "nobody@example.com"}


def test_an_inactive_user_cannot_log_in_or_refresh(api_client, user, password):
    refresh = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save()
    assert_error(login(api_client, user.email, password), 401, "invalid_credentials")
    assert_error(
        api_client.post(REFRESH, {"refresh": refresh}, format="json"), 401, "invalid_token"
    )


def test_a_deleted_users_refresh_token_is_rejected(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.delete()
    assert_error(
        api_client.post(REFRESH, {"refresh": refresh}, format="json"), 401, "invalid_token"
    )


def test_me_requires_a_token(api_client):
    error = assert_error(api_client.get(ME), 401, "not_authenticated")
    assert error["message"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(
            jwt.encode(
                {"user_id": "1", "token_type": "access", "exp": 9999999999, "jti": "x"},
                "wrong-key-wrong-key-wrong-key-wrong-key",
                "HS256",
            ),
            id="forged",
        ),
        pytest.param(
            jwt.encode(
                {"user_id": "1", "token_type": "access", "exp": 9999999999, "jti": "x"},
                None,
                algorithm="none",
            ),
            id="alg-none",
        ),
    ],
)
def test_bad_tokens_get_401(api_client, user, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(api_client.get(ME), 401, "invalid_token")


def test_an_expired_access_token_gets_401(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(api_client.get(ME), 401, "invalid_token")


def test_a_refresh_token_is_not_accepted_as_an_access_token(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")
    assert_error(api_client.get(ME), 401, "invalid_token")


def test_an_access_token_is_not_accepted_as_a_refresh_token(api_client, user):
    access = str(AccessToken.for_user(user))
    assert_error(api_client.post(REFRESH, {"refresh": access}, format="json"), 401, "invalid_token")


def test_an_expired_refresh_token_is_rejected(api_client, user):
    refresh = RefreshToken.for_user(user)
    refresh.set_exp(from_time=refresh.current_time, lifetime=-refresh.lifetime)
    assert_error(
        api_client.post(REFRESH, {"refresh": str(refresh)}, format="json"), 401, "invalid_token"
    )


def test_logout_rejects_another_users_or_a_broken_refresh_token(user_client, other_user):
    others = str(RefreshToken.for_user(other_user))
    error = assert_error(
        user_client.post(LOGOUT, {"refresh": others}, format="json"), 400, "validation_error"
    )
    assert "refresh" in error["details"]
    broken = user_client.post(LOGOUT, {"refresh": "x.y.z"}, format="json")
    assert_error(broken, 400, "validation_error")


def test_logout_needs_authentication(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    assert_error(
        api_client.post(LOGOUT, {"refresh": refresh}, format="json"), 401, "not_authenticated"
    )


def test_patch_me_updates_name_and_timezone_and_audits(user_client, user):
    response = user_client.patch(
        ME, {"full_name": "Grace H", "timezone": "Europe/Paris"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["timezone"] == "Europe/Paris"
    user.refresh_from_db()
    assert user.full_name == "Grace H"
    event = AuditEvent.objects.get(action="user.updated")
    assert event.details["changed"]["timezone"] == {"from": "UTC", "to": "Europe/Paris"}


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "utc\x00", "../../etc/passwd"])
def test_patch_me_rejects_an_unknown_timezone(user_client, user, zone):
    response = user_client.patch(ME, {"timezone": zone}, format="json")
    assert_error(response, 400, "validation_error")
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_me_cannot_change_email_or_staff_flag(user_client, user):
    user_client.patch(ME, {"email": "evil@example.com", "is_staff": True}, format="json")
    user.refresh_from_db()
    assert not user.is_staff and user.email != "evil@example.com"


def test_put_on_me_is_not_allowed(user_client):
    assert_error(user_client.put(ME, {"full_name": "x"}, format="json"), 405, "method_not_allowed")


def test_tokens_carry_an_expiry_matching_the_settings(api_client, user, password):
    tokens = login(api_client, user.email, password).json()
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert claims["exp"] - time.time() <= settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].seconds
