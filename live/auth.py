"""Who is on the other end of a WebSocket: the web session (cookie) or an access token.

A token comes in the `Authorization: Bearer <access token>` header (API clients), or, from
a browser (which can't set headers on a WebSocket), as a subprotocol `bearer.<access
token>` next to `taskplatform.live`, the one the server answers with. Never in the URL:
access logs and proxies keep URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from accounts.authentication import CachedJWTAuthentication

from .services import session_tag

SUBPROTOCOL = "taskplatform.live"
TOKEN_SUBPROTOCOL = "bearer."  # noqa: S105 - a prefix, not a secret


class NotAuthenticated(Exception):
    """No usable credentials: the message is the close reason."""


@dataclass
class Caller:
    user: Any
    expires_at: datetime | None  # a token's expiry: the connection closes then
    session: str | None = None  # a web session's tag (live.services.session_tag)


def _token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
            raise NotAuthenticated("Authorization must be a bearer token.")
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(TOKEN_SUBPROTOCOL):
            return protocol.removeprefix(TOKEN_SUBPROTOCOL)
    return None


def caller(scope: dict[str, Any]) -> Caller:
    """The signed-in caller (sync: reads the cache or the database). A token, when one is
    sent, decides (and must be valid); otherwise the session's user. NotAuthenticated else."""
    token = _token(scope)
    if token is not None:
        jwt = CachedJWTAuthentication()
        try:
            validated = jwt.get_validated_token(token.encode())
            user = jwt.get_user(validated)
        except (InvalidToken, TokenError, AuthenticationFailed) as exc:
            raise NotAuthenticated("Invalid or expired token.") from exc
        return Caller(user, datetime.fromtimestamp(validated["exp"], tz=UTC))
    session_user = scope.get("user")
    if session_user is None or not session_user.is_authenticated:
        raise NotAuthenticated("Sign in first (session cookie or bearer token).")
    if not session_user.is_active:
        raise NotAuthenticated("This account is deactivated.")
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return Caller(session_user, None, session_tag(key) if key else None)
