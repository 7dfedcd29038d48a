"""The tokens emailed in links: verify an address, reset a password.

Verification: a signed payload (user pk + email, own salt) that expires after
ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS; it stops working if the address changes. Using it twice
is harmless (verifying a verified address does nothing), so it needs no state.

Reset: Django's PasswordResetTokenGenerator, whose hash covers the password hash, the last
login and the email: setting the new password spends the token (single use), and it expires
after PASSWORD_RESET_TIMEOUT. The link carries one opaque string, `<uid>.<token>` (both
URL-safe; base64 and Django's token never hold a dot).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db.models import QuerySet
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from taskplatform.exceptions import ApplicationError

from .models import User

VERIFY_SALT = "accounts.tokens.verify-email"
INVALID_VERIFICATION = "This verification link is invalid or has expired: ask for a new one."
INVALID_RESET = "This password reset link is invalid, expired or already used: ask for a new one."


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="validation_error", details={"token": [message]})


def verification_token_make(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT, compress=True)


def verification_token_user(*, token: str, users: QuerySet[User] | None = None) -> User:
    """The active user `token` was made for, while it is fresh and their address unchanged."""
    try:
        payload = signing.loads(
            token, salt=VERIFY_SALT, max_age=settings.ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS
        )
        pk, email = int(payload["u"]), str(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise _invalid(INVALID_VERIFICATION) from None
    users = User.objects.all() if users is None else users
    user = users.filter(pk=pk, email=email, is_active=True).first()
    if user is None:
        raise _invalid(INVALID_VERIFICATION)
    return user


def reset_token_make(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def reset_token_user(*, token: str, users: QuerySet[User] | None = None) -> User:
    """The active user `token` was made for, while it is unused and fresh.

    Pass `users=User.objects.select_for_update()` inside a transaction to check it against
    the locked row: two requests with one token then can't both pass.
    """
    uid, _, secret = token.partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _invalid(INVALID_RESET) from None
    users = User.objects.all() if users is None else users
    user = users.filter(pk=pk, is_active=True).first() if 0 < pk < 2**63 else None
    if user is None or not default_token_generator.check_token(user, secret):
        raise _invalid(INVALID_RESET)
    return user
