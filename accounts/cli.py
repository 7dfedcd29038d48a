"""For management commands: find a user by email, or fail with a clear message."""

from __future__ import annotations

from django.core.management.base import CommandError

from .models import User, normalize_email


def user_by_email(email: str, *, active_only: bool = False) -> User:
    users = User.objects.filter(email=normalize_email(email))
    if active_only:
        users = users.filter(is_active=True)
    user = users.first()
    if user is None:
        raise CommandError(f"No {'active ' if active_only else ''}user with the email {email}.")
    return user
