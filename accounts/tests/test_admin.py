from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from audit.services import audit_record
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db


def test_user_admin_lists_searches_and_filters(admin_client, user):
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    found = admin_client.get("/admin/accounts/user/", {"q": user.email})
    assert user.email.encode() in found.content
    assert admin_client.get("/admin/accounts/user/", {"is_staff__exact": "1"}).status_code == 200
    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200


def test_admin_can_add_a_user_through_the_form(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New@Example.com",
            "full_name": "New",
            "password1": "a-good-passphrase-1",
            "password2": "a-good-passphrase-1",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.filter(email="new@example.com").exists()


def test_audit_admin_is_read_only(admin_client, user):
    event = audit_record(actor=user, action="user.login", target=user)
    assert admin_client.get("/admin/audit/auditevent/").status_code == 200
    assert admin_client.get("/admin/audit/auditevent/", {"q": "user.login"}).status_code == 200
    detail = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert detail.status_code == 200 and b"Save" not in detail.content
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403


def test_users_added_in_the_admin_are_verified(admin_client):
    admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "made@example.com",
            "password1": "a-good-passphrase-1",
            "password2": "a-good-passphrase-1",
            "usable_password": "true",
        },
    )
    assert User.objects.get(email="made@example.com").email_verified


def test_the_list_shows_and_filters_by_verification(admin_client):
    waiting = UserFactory(email_verified_at=None)
    done = UserFactory()
    unverified_list = admin_client.get("/admin/accounts/user/", {"email_verified": "no"})
    assert waiting.email.encode() in unverified_list.content
    assert done.email.encode() not in unverified_list.content
    verified_list = admin_client.get("/admin/accounts/user/", {"email_verified": "yes"})
    assert done.email.encode() in verified_list.content
    assert waiting.email.encode() not in verified_list.content
    page = admin_client.get(f"/admin/accounts/user/{waiting.pk}/change/")
    assert b"Email verified at" in page.content


def test_marking_verified_in_the_admin_goes_through_the_service(admin_client):
    waiting = UserFactory(email_verified_at=None)
    held = notification_create(user=waiting, kind=Kind.REMINDER, context={"message": "x"})
    assert held is not None and held.status == Notification.Status.HELD
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "mark_email_verified", "_selected_action": [waiting.pk]},
        follow=True,
    )
    assert b"1 user(s) marked verified" in response.content
    waiting.refresh_from_db()
    held.refresh_from_db()
    assert waiting.email_verified and held.status == Notification.Status.QUEUED
    assert Notification.objects.filter(user=waiting, kind=Kind.WELCOME).count() == 1
    event = AuditEvent.objects.get(action="user.email_verified")
    assert event.actor.email == "root@example.com"
