"""The pages the emailed links open: GET only shows a form, the POST (with its CSRF token)
does what the API does."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from accounts.tokens import reset_token_make, verification_token_make
from audit.models import AuditEvent
from notifications.kinds import Kind
from notifications.models import Notification

pytestmark = pytest.mark.django_db

VERIFY_PAGE = "/verify-email/"
RESET_PAGE = "/reset-password/"
NEW = "a-brand-new-passphrase"


@pytest.fixture
def browser_client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def unverified():
    return UserFactory(email_verified_at=None)


def post_form(client: Client, path: str, token: str, **fields):
    """What pressing the button sends: the form's fields and the CSRF cookie's token."""
    page = client.get(path, {"token": token})
    assert page.status_code == 200
    data = {"token": token, "csrfmiddlewaretoken": client.cookies["csrftoken"].value, **fields}
    return client.post(path, data)


def text(response) -> str:
    return response.content.decode()


# --- verify -----------------------------------------------------------------------------------


def test_opening_the_link_only_shows_a_button(browser_client, unverified):
    token = verification_token_make(user=unverified)
    page = browser_client.get(VERIFY_PAGE, {"token": token})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert '<form method="post">' in text(page) and f'value="{token}"' in text(page)
    assert "<script" not in text(page)
    unverified.refresh_from_db()
    assert not unverified.email_verified and not AuditEvent.objects.exists()
    policy = page["Content-Security-Policy"]
    assert "form-action 'self'" in policy and "script-src" not in policy
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]


def test_pressing_verify_verifies_and_welcomes(browser_client, unverified):
    response = post_form(browser_client, VERIFY_PAGE, verification_token_make(user=unverified))
    assert response.status_code == 200 and "is verified" in text(response)
    assert 'href="/app/login/"' in response.content.decode()  # on to the web app
    unverified.refresh_from_db()
    assert unverified.email_verified
    assert Notification.objects.filter(kind=Kind.WELCOME, user=unverified).count() == 1
    assert AuditEvent.objects.filter(action="user.email_verified").count() == 1


def test_a_post_without_the_csrf_token_is_refused(browser_client, unverified):
    token = verification_token_make(user=unverified)
    response = browser_client.post(VERIFY_PAGE, {"token": token})
    assert response.status_code == 403
    unverified.refresh_from_db()
    assert not unverified.email_verified


@pytest.mark.parametrize("token", ["broken", "x" * 5000])
def test_a_dead_verification_link_says_so_on_get_and_post(browser_client, unverified, token):
    page = browser_client.get(VERIFY_PAGE, {"token": token})
    assert page.status_code == 200 and "invalid or has expired" in text(page)
    assert "<form" not in text(page)
    # a form rendered for a good link sets the CSRF cookie; then the POST carries a dead one
    browser_client.get(VERIFY_PAGE, {"token": verification_token_make(user=unverified)})
    cookie = browser_client.cookies["csrftoken"].value
    pressed = browser_client.post(VERIFY_PAGE, {"token": token, "csrfmiddlewaretoken": cookie})
    assert pressed.status_code == 200 and "invalid or has expired" in text(pressed)
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_the_verify_page_without_a_token_asks_for_the_link(browser_client):
    page = browser_client.get(VERIFY_PAGE)
    assert page.status_code == 200 and "needs the link" in text(page)


# --- reset ------------------------------------------------------------------------------------


def test_opening_the_reset_link_shows_the_password_fields(browser_client, user, password):
    page = browser_client.get(RESET_PAGE, {"token": reset_token_make(user=user)})
    assert page.status_code == 200
    assert 'name="new_password"' in text(page) and 'name="new_password_again"' in text(page)
    user.refresh_from_db()
    assert user.check_password(password) and not AuditEvent.objects.exists()


def test_setting_a_new_password_through_the_page(browser_client, user):
    token = reset_token_make(user=user)
    done = post_form(browser_client, RESET_PAGE, token, new_password=NEW, new_password_again=NEW)
    assert done.status_code == 200 and "password is changed" in text(done)
    assert 'href="/app/login/"' in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert AuditEvent.objects.filter(action="user.password_reset").count() == 1
    spent = browser_client.get(RESET_PAGE, {"token": token})
    assert "already used" in text(spent) and 'name="new_password"' not in text(spent)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"new_password": NEW, "new_password_again": NEW + "x"}, "differ"),
        ({"new_password": "12345678", "new_password_again": "12345678"}, "too common"),
        ({"new_password": "x" * 200, "new_password_again": "x" * 200}, "at most 128"),
        ({}, "too short"),
    ],
)
def test_a_refused_password_shows_why_and_keeps_the_form(
    browser_client, user, password, fields, says
):
    token = reset_token_make(user=user)
    response = post_form(browser_client, RESET_PAGE, token, **fields)
    assert response.status_code == 200 and says in text(response)
    assert 'name="new_password"' in text(response)
    user.refresh_from_db()
    assert user.check_password(password)


def test_a_dead_reset_link_says_so(browser_client, user):
    page = browser_client.get(RESET_PAGE, {"token": "nope.nope"})
    assert "invalid, expired or already used" in text(page) and "<form" not in text(page)


@pytest.mark.parametrize("path", [VERIFY_PAGE, RESET_PAGE])
def test_other_methods_are_refused(client, path):
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405
