"""Password reset: the request never tells whether an account exists; the emailed token sets a
new password once, expires, and signs the account out everywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from accounts.tokens import reset_token_make
from audit.models import AuditEvent
from notifications.kinds import Kind
from notifications.models import Notification

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
NEW = "a-brand-new-passphrase"


def ask(client, email):
    return client.post(RESET, {"email": email}, format="json")


def confirm(client, token, new_password=NEW):
    return client.post(CONFIRM, {"token": token, "new_password": new_password}, format="json")


def emailed_token(notification: Notification, page: str) -> str:
    match = re.search(rf"/{page}/\?token=(\S+)", notification.body_text)
    assert match, notification.body_text
    return match.group(1)


def error_of(response, status=400):
    assert response.status_code == status, response.content
    return response.json()["error"]


# --- asking -----------------------------------------------------------------------------------


def test_a_verified_account_gets_the_reset_link(api_client, user, settings):
    response = ask(api_client, user.email.upper())
    assert response.status_code == 202 and set(response.json()) == {"detail"}
    [mail] = Notification.objects.all()
    assert mail.kind == Kind.PASSWORD_RESET and mail.user == user
    token = emailed_token(mail, "reset-password")
    assert f"{settings.SITE_URL}/reset-password/?token={token}" in mail.body_html
    event = AuditEvent.objects.get(action="user.password_reset_requested")
    assert event.target_id == str(user.pk) and event.details == {"email_sent": "password_reset"}


def test_the_answer_is_byte_for_byte_the_same_for_every_address(api_client, user):
    unverified = UserFactory(email_verified_at=None)
    inactive = UserFactory(is_active=False)
    answers = [
        ask(api_client, email)
        for email in (user.email, unverified.email, inactive.email, "nobody@example.com")
    ]
    assert {(a.status_code, a.content, a["Content-Type"]) for a in answers} == {
        (202, answers[0].content, answers[0]["Content-Type"])
    }


def test_an_unknown_address_gets_nothing_and_is_audited_by_email(api_client):
    ask(api_client, " Nobody@Example.com ")
    assert not Notification.objects.exists()
    event = AuditEvent.objects.get(action="user.password_reset_requested")
    assert event.target_id in (None, "") and event.details == {"email": "nobody@example.com"}


def test_an_unverified_address_gets_only_the_verification_mail(api_client):
    unverified = UserFactory(email_verified_at=None)
    ask(api_client, unverified.email)
    [mail] = Notification.objects.all()
    assert mail.kind == Kind.VERIFY_EMAIL and mail.user == unverified
    assert "ask for the password reset again" in mail.body_text
    assert emailed_token(mail, "verify-email")
    assert "reset-password" not in mail.body_text
    requested = AuditEvent.objects.get(action="user.password_reset_requested")
    assert requested.details == {"email_sent": "verify_email"}
    sent = AuditEvent.objects.get(action="user.verification_sent")
    assert sent.details == {"reason": "password_reset"}


def test_a_deactivated_account_gets_nothing(api_client):
    inactive = UserFactory(is_active=False)
    ask(api_client, inactive.email)
    assert not Notification.objects.exists()
    event = AuditEvent.objects.get(action="user.password_reset_requested")
    assert event.target_id == str(inactive.pk) and event.details == {"email_sent": ""}


@pytest.mark.parametrize("body", [{}, {"email": "nope"}, {"email": ["a@b.c"]}, {"email": None}])
def test_a_malformed_request_is_a_400_on_email(api_client, body):
    assert set(error_of(api_client.post(RESET, body, format="json"))["details"]) == {"email"}
    assert not AuditEvent.objects.exists()


# --- confirming -------------------------------------------------------------------------------


def test_the_emailed_token_sets_the_password_once_and_revokes_refresh_tokens(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    ask(api_client, user.email)
    token = emailed_token(Notification.objects.get(), "reset-password")

    response = confirm(api_client, token)
    assert response.status_code == 204 and not response.content
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    assert error_of(api_client.post("/api/v1/auth/refresh/", {"refresh": refresh}), 401)
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.target_id == str(user.pk) and event.details == {"refresh_tokens_revoked": 1}

    again = error_of(confirm(api_client, token, new_password="yet-another-passphrase"))
    assert set(again["details"]) == {"token"}
    user.refresh_from_db()
    assert user.check_password(NEW)
    login = {"email": user.email, "password": NEW}
    assert api_client.post("/api/v1/auth/login/", login, format="json").status_code == 200


def test_a_token_expires_after_the_reset_timeout(api_client, user, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 600
    token = reset_token_make(user=user)
    made = default_token_generator._now()
    monkeypatch.setattr(default_token_generator, "_now", lambda: made + timedelta(seconds=601))
    assert set(error_of(confirm(api_client, token))["details"]) == {"token"}
    monkeypatch.setattr(default_token_generator, "_now", lambda: made + timedelta(seconds=599))
    assert confirm(api_client, token).status_code == 204


def test_a_token_dies_when_the_password_changes_another_way(api_client, user):
    token = reset_token_make(user=user)
    user.set_password("changed-in-the-meantime")
    user.save()
    assert set(error_of(confirm(api_client, token))["details"]) == {"token"}


def test_a_weak_password_is_a_400_on_new_password_and_keeps_the_token(api_client, user, password):
    token = reset_token_make(user=user)
    error = error_of(confirm(api_client, token, new_password="12345678"))
    assert set(error["details"]) == {"new_password"}
    user.refresh_from_db()
    assert user.check_password(password)
    assert not AuditEvent.objects.filter(action="user.password_reset").exists()
    assert confirm(api_client, token).status_code == 204


def _bad(user, other_user):
    good = reset_token_make(user=user)
    uid, secret = good.split(".")
    others_uid = urlsafe_base64_encode(force_bytes(other_user.pk))
    return {
        "garbage": "garbage",
        "no-dot": uid + secret,
        "tampered": f"{uid}.{secret[:-2]}{'zz' if not secret.endswith('zz') else 'yy'}",
        "another-users-uid": f"{others_uid}.{secret}",
        "huge-uid": f"{urlsafe_base64_encode(b'9' * 40)}.{secret}",
        "negative-uid": f"{urlsafe_base64_encode(b'-1')}.{secret}",
        "not-base64": f"!!.{secret}",
        "nul": f"{uid}.{secret}\x00",
        "too-long": "x" * 2000,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "no-dot",
        "tampered",
        "another-users-uid",
        "huge-uid",
        "negative-uid",
        "not-base64",
        "nul",
        "too-long",
    ],
)
def test_a_bad_token_is_a_400_on_token_and_changes_nothing(
    api_client, user, other_user, password, kind
):
    error = error_of(confirm(api_client, _bad(user, other_user)[kind]))
    assert error["code"] == "validation_error" and set(error["details"]) == {"token"}
    for each in (user, other_user):
        each.refresh_from_db()
        assert each.check_password(password)
    assert not AuditEvent.objects.exists()


def test_a_deactivated_accounts_token_is_refused(api_client, user):
    token = reset_token_make(user=user)
    user.is_active = False
    user.save()
    assert set(error_of(confirm(api_client, token))["details"]) == {"token"}


def test_confirm_needs_both_fields(api_client):
    error = error_of(api_client.post(CONFIRM, {}, format="json"))
    assert set(error["details"]) == {"token", "new_password"}
