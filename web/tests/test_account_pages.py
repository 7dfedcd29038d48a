"""The web app's account pages: sign in and out, sign up, a forgotten password, a new
verification email, a new password; the 429 page; what an anonymous or htmx caller gets."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.services import user_login
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from live.models import LiveEvent
from live.services import session_tag
from notifications.kinds import Kind
from notifications.models import Notification
from tasks.models import Task

from .pages import signed_in_client

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
NEW = "a-brand-new-passphrase"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back():
    response = Client().get("/app/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/app/login/?next=%2Fapp%2F%3Fx%3D1"
    assert Client().get("/").headers["Location"] == "/app/"


def test_an_htmx_request_without_a_session_loads_the_sign_in_page_whole():
    response = Client().get("/app/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/app/login/?next=")


def test_signing_in_starts_a_session_and_follows_next():
    user = UserFactory(email="ada@example.com")
    client = Client(enforce_csrf_checks=True)
    client.get("/app/login/")
    response = client.post(
        "/app/login/",
        {
            "email": "ADA@example.com",
            "password": PASSWORD,
            "next": "/app/account/password/",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/app/account/password/"
    assert client.get("/app/").status_code == 200
    event = AuditEvent.objects.get(action="user.login")
    assert event.actor_id == user.pk and event.details == {"via": "web"}


def test_a_next_elsewhere_is_ignored():
    UserFactory(email="ada@example.com")
    response = Client().post(
        "/app/login/",
        {"email": "ada@example.com", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/app/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong"), ("nobody@example.com", PASSWORD), ("not-an-email", PASSWORD)],
)
def test_bad_credentials_show_the_form_again(email, password):
    UserFactory(email="ada@example.com")
    client = Client()
    response = client.post("/app/login/", {"email": email, "password": password})
    assert response.status_code == 422
    assert (
        b'aria-invalid="true"' in response.content
        or b"Invalid email or password" in response.content
    )
    assert "_auth_user_id" not in client.session


def test_posting_without_the_csrf_token_is_refused():
    UserFactory(email="ada@example.com")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/app/login/", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session_and_only_by_post():
    user = UserFactory()
    client = signed_in_client(user)
    key = client.session.session_key
    assert client.get("/app/logout/").status_code == 405
    response = client.post("/app/logout/")
    assert response["Location"] == "/app/login/"
    assert client.get("/app/").status_code == 302
    assert AuditEvent.objects.filter(action="user.logout", actor=user).exists()
    # the session's live connections are told to close (live/consumers.py)
    ended = LiveEvent.objects.get(audience=user.pk, type="session.ended")
    assert ended.data == {"session": session_tag(key)}


@override_settings(ACCOUNTS_REQUIRE_EMAIL_VERIFICATION=True)
def test_signing_up_sends_the_confirmation_email_and_says_the_same_for_a_taken_address():
    UserFactory(email="taken@example.com")
    client = Client()
    fresh = client.post(
        "/app/signup/", {"email": "new@example.com", "password": NEW, "full_name": "New"}
    )
    taken = client.post("/app/signup/", {"email": "taken@example.com", "password": NEW})
    assert fresh.status_code == taken.status_code == 200
    assert b"If new@example.com has an account" in fresh.content
    assert b"If taken@example.com has an account" in taken.content
    user = User.objects.get(email="new@example.com")
    assert not user.email_verified
    assert Notification.objects.filter(user=user, kind=Kind.VERIFY_EMAIL).exists()


def test_a_weak_password_is_refused_with_the_validators_message():
    response = Client().post("/app/signup/", {"email": "new@example.com", "password": "12345678"})
    assert response.status_code == 422
    assert b"This password is entirely numeric" in response.content
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_forgotten_password_sends_the_reset_link():
    user = UserFactory(email="ada@example.com")
    response = Client().post("/app/forgot-password/", {"email": "ada@example.com"})
    assert response.status_code == 200
    assert Notification.objects.filter(user=user, kind=Kind.PASSWORD_RESET).exists()
    unknown = Client().post("/app/forgot-password/", {"email": "nobody@example.com"})
    assert unknown.status_code == 200 and b"If nobody@example.com has an account" in unknown.content


def test_a_new_verification_email():
    user = UserFactory(email="ada@example.com", email_verified_at=None)
    assert Client().post("/app/verify/resend/", {"email": "ada@example.com"}).status_code == 200
    assert Notification.objects.filter(user=user, kind=Kind.VERIFY_EMAIL).exists()
    assert Client().post("/app/verify/resend/", {"email": "nope"}).status_code == 422


def test_changing_the_password_keeps_this_session_and_revokes_api_tokens():
    user = UserFactory(email="ada@example.com")
    user_login(email="ada@example.com", password=PASSWORD)
    client = signed_in_client(user)
    wrong = client.post("/app/account/password/", {"current_password": "nope", "new_password": NEW})
    assert wrong.status_code == 422
    assert b"The current password is wrong." in wrong.content
    weak = client.post(
        "/app/account/password/", {"current_password": PASSWORD, "new_password": "123"}
    )
    assert weak.status_code == 422
    response = client.post(
        "/app/account/password/", {"current_password": PASSWORD, "new_password": NEW}
    )
    assert response["Location"] == "/app/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.get("/app/").status_code == 200  # still signed in
    token = OutstandingToken.objects.get(user=user)
    assert hasattr(token, "blacklistedtoken")


@override_settings(RATELIMITS={"login_ip": "2/m", "login_email": "100/h"})
def test_too_many_sign_ins_get_the_429_page():
    client = Client()
    for _ in range(2):
        assert (
            client.post("/app/login/", {"email": "a@example.com", "password": "x"}).status_code
            == 422
        )
    response = client.post("/app/login/", {"email": "a@example.com", "password": "x"})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert b"Too many requests" in response.content


def test_an_unknown_page_is_a_page_not_json():
    client = signed_in_client(UserFactory())
    response = client.get("/app/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content
    assert Client().get("/api/v1/no-such/").json()["error"]["code"] == "not_found"


def test_the_home_page_and_its_policy():
    user = UserFactory(full_name="Ada")
    response = signed_in_client(user).get("/app/")
    assert response.status_code == 200
    assert b"Hello, Ada" in response.content
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert b'hx-headers=\'{"X-CSRFToken": "' in response.content


@override_settings(RATELIMITS={"api": "2/m"})
def test_changes_past_the_per_person_limit_get_429_and_change_nothing():
    user = UserFactory()
    client = signed_in_client(user)
    for n in range(2):
        task = {"title": f"T{n}", "priority": "medium", "status": "todo", "visibility": "private"}
        assert client.post("/app/tasks/new/", task).status_code == 302
    page = client.post("/app/tasks/new/", {"title": "T2"})
    htmx = client.post("/app/tasks/new/", {"title": "T3"}, headers={"HX-Request": "true"})
    assert page.status_code == htmx.status_code == 429
    assert page["Retry-After"] == "60" and b"Too many requests" in page.content
    assert not Task.objects.filter(title__in=["T2", "T3"]).exists()
    assert client.get("/app/tasks/").status_code == 200  # reading is not limited
