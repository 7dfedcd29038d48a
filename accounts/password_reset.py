"""Password reset use cases: ask for the emailed link, set a new password with it.

Nothing but the verification email goes to an unverified address, so a reset asked for one
sends the verification email instead (it says to verify first, then ask again). The answer
to the asker is the same in every case: it never tells whether an account exists.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from audit.services import audit_record
from notifications.kinds import Kind
from notifications.services import notification_create

from .models import User, normalize_email
from .services import password_set
from .tokens import reset_token_make, reset_token_user
from .verification import email_verification_send


def reset_url(*, user: User) -> str:
    return f"{settings.SITE_URL}/reset-password/?token={reset_token_make(user=user)}"


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Email a reset link to an active verified account, the verification link to an active
    unverified one, nothing otherwise; audited in every case."""
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        audit_record(action="user.password_reset_requested", details={"email": email[:254]})
        return
    sent = ""
    if user.is_active and user.email_verified:
        notification_create(
            user=user,
            kind=Kind.PASSWORD_RESET,
            context={
                "reset_url": reset_url(user=user),
                "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
        )
        sent = Kind.PASSWORD_RESET.value
    elif user.is_active:
        email_verification_send(user=user, reason="password_reset")
        sent = Kind.VERIFY_EMAIL.value
    audit_record(action="user.password_reset_requested", target=user, details={"email_sent": sent})


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set the new password with an unused, fresh reset token; every refresh token issued
    before dies. The user's row is locked while the token is checked, so one token can't
    set two passwords."""
    user = reset_token_user(token=token, users=User.objects.select_for_update())
    password_set(user=user, new_password=new_password, action="user.password_reset")
    return user
