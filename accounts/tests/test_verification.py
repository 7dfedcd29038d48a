"""Register answers the same for every address; the emailed link verifies the address,
releases the mail held for it and sends the welcome email once."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tokens import VERIFY_SALT, verification_token_make
from audit.models import AuditEvent
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
PASSPHRASE = "an-excellent-passphrase"
Status = Notification.Status


def register(client, email, password=PASSPHRASE):
    return client.post(REGISTER, {"email": email, "password": password}, format="json")


def link_token(notification: Notification, page: str = "verify-email") -> str:
    match = re.search(rf"/{page}/\?token=(\S+)", notification.body_text)
    assert match, notification.body_text
    assert f'{page}/?token={match.group(1)}"' in notification.body_html
    return match.group(1)


def mails(kind, user=None):
    rows = Notification.objects.filter(kind=kind).order_by("id")
    return list(rows.filter(user=user) if user is not None else rows)


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def unverified():
    return UserFactory(email_verified_at=None)


# --- register ---------------------------------------------------------------------------------


def test_register_makes_an_unverified_account_and_mails_the_link(api_client, settings):
    response = register(api_client, "New@Example.com")
    assert response.status_code == 202
    user = User.objects.get(email="new@example.com")
    assert not user.email_verified and user.check_password(PASSPHRASE)
    [mail] = mails(Kind.VERIFY_EMAIL)
    assert mail.user == user and mail.status == Status.QUEUED
    assert f"{settings.SITE_URL}/verify-email/?token={link_token(mail)}" in mail.body_text
    assert not mails(Kind.WELCOME)  # the welcome waits for the verification
    assert actions() == ["user.registered", "user.verification_sent"]
    sent = AuditEvent.objects.get(action="user.verification_sent")
    assert sent.target_id == str(user.pk) and sent.details == {"reason": "register"}


def test_register_answers_byte_for_byte_the_same_for_a_taken_address(api_client, user, password):
    new = register(api_client, "fresh@example.com")
    taken = register(api_client, user.email.upper())
    assert new.status_code == taken.status_code == 202
    assert new.content == taken.content and new["Content-Type"] == taken["Content-Type"]
    user.refresh_from_db()
    assert user.check_password(password)  # the attempt changed nothing
    assert User.objects.filter(email=user.email).count() == 1


def test_a_taken_verified_address_gets_one_someone_tried_to_register_mail_an_hour(api_client, user):
    for _ in range(3):
        assert register(api_client, user.email).status_code == 202
    [mail] = mails(Kind.REGISTER_ATTEMPT)
    assert mail.user == user and mail.status == Status.QUEUED
    assert "already has an account" in mail.body_text and "/app/forgot-password/" in mail.body_text
    assert not mails(Kind.VERIFY_EMAIL)
    assert actions() == ["user.register_attempted"] * 3


def test_a_taken_unverified_address_gets_the_verification_mail_again(api_client, unverified):
    assert register(api_client, unverified.email, password="another-long-passphrase").status_code
    unverified.refresh_from_db()
    assert unverified.check_password("correct-horse-battery-staple")  # unchanged
    [mail] = mails(Kind.VERIFY_EMAIL)
    assert mail.user == unverified and link_token(mail)
    assert not mails(Kind.REGISTER_ATTEMPT)


def test_a_taken_deactivated_address_gets_nothing(api_client):
    UserFactory(is_active=False, email="gone@example.com")
    assert register(api_client, "gone@example.com").status_code == 202
    assert not Notification.objects.exists()
    assert actions() == ["user.register_attempted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "12345678"}, "password"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_input_errors_are_the_same_whether_or_not_the_address_is_taken(
    api_client, user, body, field
):
    answers = []
    for email in (user.email, "free@example.com"):
        response = api_client.post(
            REGISTER, {"email": email, "password": PASSPHRASE, **body}, format="json"
        )
        assert response.status_code == 400
        error = response.json()["error"]
        answers.append((error["code"], error["message"], error["details"]))
        assert set(error["details"]) == {field}
    assert answers[0] == answers[1]
    assert User.objects.count() == 1 and not Notification.objects.exists()


def test_with_verification_off_register_verifies_at_once_and_welcomes(api_client, settings):
    settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION = False
    assert register(api_client, "open@example.com").status_code == 202
    user = User.objects.get(email="open@example.com")
    assert user.email_verified
    [welcome] = mails(Kind.WELCOME)
    assert welcome.idempotency_key == f"welcome:{user.pk}" and welcome.status == Status.QUEUED
    assert not mails(Kind.VERIFY_EMAIL)


def test_me_says_whether_the_address_is_verified(api_client, unverified):
    from taskplatform.testing import client_for

    assert client_for(unverified).get("/api/v1/auth/me/").json()["email_verified"] is False
    assert client_for(UserFactory()).get("/api/v1/auth/me/").json()["email_verified"] is True


# --- verify -----------------------------------------------------------------------------------


def test_the_emailed_token_verifies_releases_held_mail_and_welcomes_once(
    api_client, django_capture_on_commit_callbacks
):
    register(api_client, "ada@example.com")
    user = User.objects.get()
    held = notification_create(user=user, kind=Kind.REMINDER, context={"message": "x"})
    assert held is not None and held.status == Status.HELD
    token = link_token(mails(Kind.VERIFY_EMAIL)[0])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(VERIFY, {"token": token}, format="json")
    assert response.status_code == 200 and set(response.json()) == {"detail"}
    assert callbacks  # the released and the welcome mail are handed to a sender after commit
    user.refresh_from_db()
    held.refresh_from_db()
    assert user.email_verified and held.status == Status.QUEUED and held.enqueued_at is None
    [welcome] = mails(Kind.WELCOME)
    assert welcome.status == Status.QUEUED
    event = AuditEvent.objects.get(action="user.email_verified")
    assert event.actor_id == user.pk and event.details == {"held_emails_released": 1}

    again = api_client.post(VERIFY, {"token": token}, format="json")
    assert again.status_code == 200
    assert len(mails(Kind.WELCOME)) == 1
    assert AuditEvent.objects.filter(action="user.email_verified").count() == 1
    verified_at = user.email_verified_at
    user.refresh_from_db()
    assert user.email_verified_at == verified_at


class FourDaysAgoSigner(signing.TimestampSigner):
    """Signs as the default one would have four days ago (the limit is three)."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 4 * 24 * 3600)


def _bad_tokens(user):
    good = verification_token_make(user=user)
    payload = {"u": user.pk, "e": user.email}
    expired = FourDaysAgoSigner(salt=VERIFY_SALT).sign_object(payload, compress=True)
    assert signing.loads(expired, salt=VERIFY_SALT) == payload  # only its age is wrong
    other_salt = signing.dumps({"u": user.pk, "e": user.email}, salt="something else")
    return {
        "garbage": "not-a-token",
        "empty-ish": " ",
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "expired": expired,
        "other-salt": other_salt,
        "nul": good + "\x00",
        "huge": "x" * 5000,
    }


@pytest.mark.parametrize(
    "kind", ["garbage", "empty-ish", "tampered", "expired", "other-salt", "nul", "huge"]
)
def test_a_bad_token_is_a_400_on_token_and_changes_nothing(api_client, unverified, kind):
    response = api_client.post(VERIFY, {"token": _bad_tokens(unverified)[kind]}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["details"]) == {"token"}
    unverified.refresh_from_db()
    assert not unverified.email_verified and not Notification.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_token_stops_working_when_the_address_changes(api_client, unverified):
    token = verification_token_make(user=unverified)
    unverified.email = "changed@example.com"
    unverified.save()
    assert api_client.post(VERIFY, {"token": token}, format="json").status_code == 400


def test_a_deactivated_accounts_token_is_refused(api_client, unverified):
    token = verification_token_make(user=unverified)
    unverified.is_active = False
    unverified.save()
    assert api_client.post(VERIFY, {"token": token}, format="json").status_code == 400
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_verify_needs_a_token(api_client):
    response = api_client.post(VERIFY, {}, format="json")
    assert response.status_code == 400 and "token" in response.json()["error"]["details"]


# --- resend -----------------------------------------------------------------------------------


def test_resend_mails_an_unverified_account_and_answers_the_same_for_all(api_client, unverified):
    verified, inactive = UserFactory(), UserFactory(is_active=False, email_verified_at=None)
    answers = {
        email: api_client.post(RESEND, {"email": email}, format="json")
        for email in (unverified.email, verified.email, inactive.email, "nobody@example.com")
    }
    assert {(r.status_code, r.content) for r in answers.values()} == {
        (202, answers[unverified.email].content)
    }
    [mail] = mails(Kind.VERIFY_EMAIL)
    assert mail.user == unverified and link_token(mail)
    sent = AuditEvent.objects.get(action="user.verification_sent")
    assert sent.target_id == str(unverified.pk) and sent.details == {"reason": "resend"}


def test_resend_signed_in_without_a_body_mails_the_callers_address(unverified):
    from taskplatform.testing import client_for

    response = client_for(unverified).post(RESEND)
    assert response.status_code == 202
    assert [m.user for m in mails(Kind.VERIFY_EMAIL)] == [unverified]


def test_resend_anonymous_without_an_email_is_a_400(api_client, unverified):
    response = api_client.post(RESEND, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"email"}
    assert not Notification.objects.exists()


def test_a_resent_link_and_the_first_both_work(api_client, unverified):
    first = verification_token_make(user=unverified)
    api_client.post(RESEND, {"email": unverified.email}, format="json")
    second = link_token(mails(Kind.VERIFY_EMAIL)[0])
    assert api_client.post(VERIFY, {"token": second}, format="json").status_code == 200
    assert api_client.post(VERIFY, {"token": first}, format="json").status_code == 200
