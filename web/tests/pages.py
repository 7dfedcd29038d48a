"""What the web app's page tests share."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import User

# the header htmx sends with each of its requests
HTMX = {"HX-Request": "true"}


def signed_in_client(user: User, **kwargs: Any) -> Client:
    """A browser whose session is signed in as `user` (kwargs: Client's, e.g.
    enforce_csrf_checks=True)."""
    client = Client(**kwargs)
    client.force_login(user)
    return client
