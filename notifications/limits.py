"""The hourly limit on email to one user (NOTIFICATIONS_PER_USER_PER_HOUR).

However many jobs, assignments or reminders a user sets off, they are sent at most that
many emails in any hour (account mail — verification, password reset — aside). A mail past
the limit is written `suppressed`, never sent; one "emails held back" summary, due when the
clock hour ends, says how many there were and what about. The limit is counted from the
rows written in the last hour, so two mails created in the same instant may both pass: it
is a limit on abuse, not an exact meter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from audit.services import audit_record

from .holding import must_hold
from .kinds import UNLIMITED_KINDS, Kind
from .models import Notification
from .rendering import ContextGone

if TYPE_CHECKING:
    from accounts.models import User

Status = Notification.Status
HOUR = timedelta(hours=1)
SUPPRESSED_NOTE = "Not sent: over the hourly limit of {limit} emails; counted in the summary."


def _counted(now: datetime) -> QuerySet[Notification]:
    """The rows that count against the limit at `now`: written in the last hour, not exempt."""
    return (
        Notification.objects.filter(created_at__gt=now - HOUR)
        .exclude(kind__in=UNLIMITED_KINDS)
        .exclude(status__in=Notification.NOT_SENT)
    )


def over_hourly_limit(*, user: User | None, kind: str, now: datetime) -> bool:
    """Whether one more `kind` mail to `user` at `now` would pass the hourly limit."""
    limit = settings.NOTIFICATIONS_PER_USER_PER_HOUR
    if not limit or user is None or kind in UNLIMITED_KINDS:
        return False
    return _counted(now).filter(user=user)[:limit].count() >= limit


def suppressed_note() -> str:
    return SUPPRESSED_NOTE.format(limit=settings.NOTIFICATIONS_PER_USER_PER_HOUR)


def notifications_limit_bulk(*, kind: str, now: datetime) -> int:
    """After a bulk insert (rows of `kind` written at `now`): suppress those past their
    user's limit, newest first, and plan the users' summaries. Returns how many."""
    limit = settings.NOTIFICATIONS_PER_USER_PER_HOUR
    if not limit or kind in UNLIMITED_KINDS:
        return 0
    new = Notification.objects.filter(kind=kind, created_at=now, status__in=[Status.QUEUED])
    ranked = (
        _counted(now)
        .filter(user_id__in=new.values("user_id"))
        .annotate(rank=Window(RowNumber(), partition_by=F("user_id"), order_by=F("id").asc()))
        .filter(rank__gt=limit)
        .values_list("pk", "user_id")
    )
    over = [(pk, user_id) for pk, user_id in ranked]
    if not over:
        return 0
    suppressed = new.filter(pk__in=[pk for pk, _ in over]).update(
        status=Status.SUPPRESSED, last_error=suppressed_note(), updated_at=now
    )
    users = get_user_model().objects.filter(pk__in={user_id for _, user_id in over})
    for user in users:
        held_back_summary_plan(user=user, now=now)
    return suppressed


def held_back_summary_plan(*, user: User, now: datetime) -> None:
    """The one summary of this clock hour's suppressed mail, due when the hour ends (the
    sender renders it then, with the final count). The first suppression of the hour is
    audited."""
    start = now.replace(minute=0, second=0, microsecond=0)
    key = f"emails-held-back:{user.pk}:{start:%Y-%m-%dT%H}"
    if Notification.objects.filter(idempotency_key=key).exists():
        return
    held = must_hold(user=user, kind=Kind.EMAILS_HELD_BACK)
    try:
        with transaction.atomic():
            Notification.objects.create(
                user=user,
                to_email=user.email,
                kind=Kind.EMAILS_HELD_BACK,
                subject="Some emails were held back",
                context={
                    "user_id": user.pk,
                    "since": start.isoformat(),
                    "until": (start + HOUR).isoformat(),
                },
                idempotency_key=key,
                next_attempt_at=start + HOUR,
                status=Status.HELD if held else Status.QUEUED,
            )
    except IntegrityError:  # a concurrent request planned it
        return
    audit_record(
        action="quota.refused",
        target=user,
        details={"quota": "emails_per_hour", "limit": settings.NOTIFICATIONS_PER_USER_PER_HOUR},
    )


def held_back_context_load(stored: dict[str, Any]) -> dict[str, Any]:
    """The summary's content, read when it is sent: what the limit held back that hour."""
    rows = Notification.objects.filter(
        user_id=stored["user_id"],
        status=Status.SUPPRESSED,
        created_at__gte=datetime.fromisoformat(stored["since"]),
        created_at__lt=datetime.fromisoformat(stored["until"]),
    ).order_by("id")
    count = rows.count()
    if not count:
        raise ContextGone("nothing was held back that hour")
    return {
        "count": count,
        "limit": settings.NOTIFICATIONS_PER_USER_PER_HOUR,
        "subjects": list(rows.values_list("subject", flat=True)[:10]),
        "since": datetime.fromisoformat(stored["since"]),
        "until": datetime.fromisoformat(stored["until"]),
    }
