"""Mail to an address nobody has proved yet waits: held until it is verified.

A self-registered account's address is unproven until its owner follows the verification
link (accounts). Until then only account mail (notifications.kinds.ACCOUNT_KINDS: the
verification email itself) goes to it; everything else is written `held`. Verifying
releases the held rows to the queue; rows still held after
ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS are dropped, never sent. The sweeper (every minute) does
both too, so a row held in the same instant its address was verified is not left behind.
With ACCOUNTS_REQUIRE_EMAIL_VERIFICATION turned off nothing is held, and the sweeper
releases what was.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .kinds import ACCOUNT_KINDS
from .models import Notification
from .publishing import notifications_publish_due

if TYPE_CHECKING:
    from accounts.models import User

Status = Notification.Status


def must_hold(*, user: User | None, kind: str) -> bool:
    """Whether a `kind` mail to `user` waits for their address to be verified."""
    return (
        settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION
        and user is not None
        and user.email_verified_at is None
        and kind not in ACCOUNT_KINDS
    )


def notifications_release_held(*, user: User) -> int:
    """The user's address is verified: their held mail joins the queue (sent after commit)."""
    now = timezone.now()
    released = Notification.objects.filter(user=user, status=Status.HELD).update(
        status=Status.QUEUED, enqueued_at=None, next_attempt_at=now, updated_at=now
    )
    if released:
        transaction.on_commit(lambda: notifications_publish_due())
    return released


def notifications_sweep_held(*, now: datetime | None = None) -> dict[str, int]:
    """The sweeper's part: release what waits for an address verified since; drop what
    waited longer than ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS."""
    now = now or timezone.now()
    held = Notification.objects.filter(status=Status.HELD)
    verified = get_user_model().objects.filter(
        pk=OuterRef("user_id"), email_verified_at__isnull=False
    )
    if settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION:
        waiting_for_nothing = held.filter(Exists(verified))
    else:  # verification was turned off: nothing waits any more
        waiting_for_nothing = held
    released = waiting_for_nothing.update(
        status=Status.QUEUED, enqueued_at=None, next_attempt_at=now, updated_at=now
    )
    too_old = now - timedelta(days=settings.ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS)
    dropped = held.filter(created_at__lt=too_old).update(
        status=Status.DROPPED,
        last_error="Not sent: the address was not verified in time.",
        updated_at=now,
    )
    return {"released": released, "dropped": dropped}
