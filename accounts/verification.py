"""Email verification use cases: send the link, confirm it, resend it, mark verified.

A self-registered address is unproven until its owner follows the emailed link; until then
only account mail goes to it and the rest is held (notifications/holding.py). Verifying
releases the held mail and sends the welcome email once.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from notifications.holding import notifications_release_held
from notifications.kinds import Kind
from notifications.services import notification_create

from .models import User, normalize_email
from .tokens import verification_token_make, verification_token_user


def verification_url(*, user: User) -> str:
    return f"{settings.SITE_URL}/verify-email/?token={verification_token_make(user=user)}"


Reason = Literal["register", "resend", "password_reset"]


def email_verification_send(*, user: User, reason: Reason) -> None:
    """Queue a verification email to `user` (sent after commit) and audit it.

    `reason` says what asked for it; for "password_reset" the email says to verify first
    and then ask for the reset again.
    """
    queued = notification_create(
        user=user,
        kind=Kind.VERIFY_EMAIL,
        context={
            "verify_url": verification_url(user=user),
            "for_password_reset": reason == "password_reset",
            "valid_hours": settings.ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS // 3600,
        },
    )
    if queued is None:  # a deactivated account gets nothing
        return
    audit_record(
        actor=None, action="user.verification_sent", target=user, details={"reason": reason}
    )


@transaction.atomic
def user_email_verify(*, user: User, actor: User | None) -> User:
    """Mark the address verified: held mail goes out, the welcome email once. A no-op when
    it already is (the same link followed twice, an operator's second click)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_verified_at is not None:
        return user
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    released = notifications_release_held(user=user)
    notification_create(
        user=user, kind=Kind.WELCOME, context={}, idempotency_key=f"welcome:{user.pk}"
    )
    audit_record(
        actor=actor,
        action="user.email_verified",
        target=user,
        details={"held_emails_released": released},
    )
    return user


def email_verification_confirm(*, token: str) -> User:
    """Verify the address the emailed link was made for; a bad or stale token is a
    validation error on `token`."""
    user = verification_token_user(token=token)
    return user_email_verify(user=user, actor=user)


@transaction.atomic
def email_verification_resend(*, email: str) -> None:
    """A new verification email, only for an active account still unverified. Says nothing
    either way: the caller answers the same whatever the address is."""
    user = User.objects.filter(
        email=normalize_email(email), is_active=True, email_verified_at__isnull=True
    ).first()
    if user is not None:
        email_verification_send(user=user, reason="resend")
