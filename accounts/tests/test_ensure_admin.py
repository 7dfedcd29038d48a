from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_it_creates_the_admin_once_and_prints_how_to_log_in(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("ensure_admin", "--email", "Boss@Example.com", stdout=out)
    admin = User.objects.get(is_superuser=True)
    assert admin.email == "boss@example.com" and admin.is_staff
    assert admin.email_verified  # `make run`'s admin gets its mail from the start
    credentials = Path(tmp_path, "admin-credentials.txt")
    password = credentials.read_text().split("password: ")[1].strip()
    assert admin.check_password(password)
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert password in out.getvalue() and "/admin/" in out.getvalue()

    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert User.objects.filter(is_superuser=True).count() == 1
    assert password in again.getvalue()


def test_an_existing_superuser_is_named_without_a_password_file(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    User.objects.create_superuser(email="mine@example.com", password="x")
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "mine@example.com" in out.getvalue()
    assert not Path(tmp_path, "admin-credentials.txt").exists()
