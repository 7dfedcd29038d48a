"""Who is calling: the API's views require a signed-in user (IsAuthenticated by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rest_framework.request import Request

if TYPE_CHECKING:
    from accounts.models import User


def caller(request: Request) -> User:
    """The signed-in user of a request that passed IsAuthenticated (never AnonymousUser)."""
    return cast("User", request.user)
