"""JWT authentication that reads the caller's user row from the cache, not the database.

simplejwt's JWTAuthentication SELECTs the user on every request (2.6 ms of a 3 ms
`GET /auth/me/`). Here the row lives in the shared cache (Redis when configured), keyed by
the user's id, for AUTH_USER_CACHE_SECONDS. Every save or delete of a user forgets it
(`user_cache_forget`, wired in AccountsConfig.ready): deactivation, password change,
profile update, staff changes, logins — anything that changes what authentication or
`/auth/me/` sees — whichever code path saves the row (services, admin, CLI).

Forgetting writes a short-lived tombstone rather than deleting, at once and again when the
transaction commits: a request that read the old row just before the change can then not
put it back (`add` never overwrites the tombstone), so a deactivated user is refused from
the commit on, as without the cache. Readers that meet a tombstone use the database.

The password hash is not cached (a cache is no place for it): a cached user has it deferred,
and the one request that needs it (change password) loads it from the database.

Access tokens are not revoked per user in this project (logout, password change and
deactivation blacklist refresh tokens; an access token lives ACCESS_TOKEN_LIFETIME), so the
cache can't revive a revoked token: what it holds is only ever checked for is_active.

A cache that is down fails open to the database (logged, like the rate limits), and a
tombstone that could not be written is bounded by AUTH_USER_CACHE_SECONDS.

Each process also remembers the access tokens it has verified (signature, type, id claim:
none of it can change for the same bytes), checking only their expiry again on every use:
decoding and verifying took a fifth of an authenticated request's own time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import DEFERRED
from django.dispatch import receiver
from django.test.signals import setting_changed
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from taskplatform.api.throttling import CACHE_DOWN
from taskplatform.logging import WarnEvery

from .models import User

log = logging.getLogger(__name__)

# the row but its password hash
_CACHED = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")
_TOMBSTONE = "forgotten"
# longer than a request takes between reading the row and adding it to the cache
TOMBSTONE_SECONDS = 10
# raw access token -> its verified Token, per process; emptied when full (a few MB at most)
_verified: dict[bytes, Token] = {}
_VERIFIED_MAX = 10_000


def _key(user_id: Any) -> str:
    return f"accounts:auth-user:{user_id}"


_log_cache_down = WarnEvery(log, "user cache unreachable, reading users from the database (%s)")


def _from_row(row: dict[str, Any]) -> User:
    values = [row.get(f.attname, DEFERRED) for f in User._meta.concrete_fields]
    return User.from_db(DEFAULT_DB_ALIAS, [f.attname for f in User._meta.concrete_fields], values)


def user_cache_get(*, user_id: Any) -> User | None:
    """The user with this id (cached, else from the database and then cached); None if none."""
    key = _key(user_id)
    try:
        cached = cache.get(key)
    except CACHE_DOWN as exc:
        _log_cache_down(exc)
        return User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if isinstance(cached, dict):
        return _from_row(cached)
    row = User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).values(*_CACHED).first()
    if row is None:
        return None
    if cached is None:  # not a tombstone: a change in flight must not be overwritten
        try:
            cache.add(key, row, settings.AUTH_USER_CACHE_SECONDS)
        except CACHE_DOWN as exc:
            _log_cache_down(exc)
    return _from_row(row)


def _tombstone(key: str) -> None:
    try:
        cache.set(key, _TOMBSTONE, TOMBSTONE_SECONDS)
    except CACHE_DOWN as exc:
        _log_cache_down(exc)


def user_cache_forget(*, user_id: Any) -> None:
    """Stop serving the cached row now, and again once the change is committed (readers
    until then still see the old row in the database)."""
    key = _key(user_id)
    _tombstone(key)
    transaction.on_commit(lambda: _tombstone(key))


def forget_saved_user(sender, instance: User, **kwargs) -> None:
    """post_save / post_delete receiver: any change of a user's row forgets the cached one.
    (A signal, not a call in each service: the admin, the CLI and `createsuperuser` save
    users too, and a forgotten path would serve a stale row.)"""
    user_cache_forget(user_id=instance.pk)


class CachedJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication with the user read through the cache; the same checks
    and the same errors."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _verified.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())  # not the time it was made
                return token
            except TokenError:  # expired since: simplejwt's answer below
                _verified.pop(raw_token, None)
        token = super().get_validated_token(raw_token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[raw_token] = token
        return token

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        user = user_cache_get(user_id=user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN:
            # the password hash is deferred: checked against the database's, as simplejwt does
            return super().get_user(validated_token)  # type: ignore[return-value]
        return user


@receiver(setting_changed)
def _forget_verified_tokens(*, setting: str, **kwargs) -> None:
    """A new signing key or token settings (tests change them) re-verify every token."""
    if setting in ("SIMPLE_JWT", "SECRET_KEY"):
        _verified.clear()


class CachedJWTScheme(SimpleJWTScheme):
    """The OpenAPI description of CachedJWTAuthentication: simplejwt's bearer JWT."""

    target_class = "accounts.authentication.CachedJWTAuthentication"
