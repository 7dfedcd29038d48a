"""Create the first admin account if there is none, and say how to log in.

Used by `make run`. The password comes from ADMIN_PASSWORD, or is generated and written to
var/admin-credentials.txt (readable by the owner only) so a later run can repeat it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User, normalize_email


class Command(BaseCommand):
    help = "Create an admin (superuser) account on first run and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("ADMIN_EMAIL", "admin@localhost"))
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, email: str, url: str, **options):
        credentials = Path(settings.VAR_DIR) / "admin-credentials.txt"
        email = normalize_email(email)
        existing = User.objects.filter(is_superuser=True).order_by("id").first()
        if existing is None:
            password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            User.objects.create_superuser(email=email, password=password, full_name="Admin")
            credentials.write_text(f"email: {email}\npassword: {password}\n")
            credentials.chmod(0o600)
            self.stdout.write(self.style.SUCCESS(f"Created the admin account {email}."))
        where = f" (password in {credentials})" if credentials.exists() else ""
        self.stdout.write(
            f"Web app:  {url}/app/  — sign up, or sign in with the details below\n"
            f"Admin:    {url}/admin/  — log in with the details below{where}\n"
            f"API docs: {url}/api/docs/"
        )
        if credentials.exists():
            self.stdout.write(credentials.read_text().rstrip())
        else:
            admin_email = existing.email if existing is not None else email
            self.stdout.write(f"email: {admin_email} (password: the one you set)")
