"""The signed links an email carries: one-click unsubscribe (RFC 8058) and the preferences page.

A token is `django.core.signing` over {user, kind, job} with a salt of its own, so it can't be
forged or turned into another signed value of the project; it doesn't expire (an
unsubscribe link must work in an old email too). It names what the mail was, and
notifications/unsubscribe.py decides from that what one click turns off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from django.conf import settings
from django.core import signing

from taskplatform.exceptions import ApplicationError

from .kinds import ACCOUNT_KINDS, Kind

SALT = "notifications.unsubscribe"
MAX_TOKEN = 1024  # far above a real one (~80 characters): longer input isn't even checked
INVALID = "This link is not valid: open the one in your email, unchanged."
UNSUBSCRIBE_PATH = "/unsubscribe/"
PREFERENCES_PATH = "/email-preferences/"


@dataclass(frozen=True)
class Subscription:
    """Whose mail a link is about, and which mail (no kind: the preferences page only)."""

    user_id: int
    kind: Kind | None = None
    job_id: int | None = None


def has_unsubscribe(kind: str) -> bool:
    """Every mail but the account's own (verification, password reset, test email…)."""
    return kind not in ACCOUNT_KINDS


def token_make(subscription: Subscription) -> str:
    payload: dict[str, Any] = {"u": subscription.user_id}
    if subscription.kind is not None:
        payload["k"] = str(subscription.kind)
    if subscription.job_id is not None:
        payload["j"] = subscription.job_id
    return signing.dumps(payload, salt=SALT)


def token_read(token: str) -> Subscription:
    """The subscription a token names; ApplicationError (validation_error) for anything else."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise _invalid()
    try:
        payload = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise _invalid() from None
    if not isinstance(payload, dict):
        raise _invalid()
    user_id, kind, job_id = payload.get("u"), payload.get("k"), payload.get("j")
    if not _an_id(user_id) or (job_id is not None and not _an_id(job_id)):
        raise _invalid()
    if kind is not None and (kind not in Kind.values or not has_unsubscribe(kind)):
        raise _invalid()
    return Subscription(user_id=user_id, kind=Kind(kind) if kind else None, job_id=job_id)


def unsubscribe_url(token: str) -> str:
    return f"{settings.SITE_URL}{UNSUBSCRIBE_PATH}?token={token}"


def preferences_url(token: str) -> str:
    return f"{settings.SITE_URL}{PREFERENCES_PATH}?token={token}"


def _an_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _invalid() -> ApplicationError:
    return ApplicationError(INVALID, code="validation_error", details={"token": [INVALID]})
