from __future__ import annotations

import pytest

from accounts.models import User
from audit.services import audit_record

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
