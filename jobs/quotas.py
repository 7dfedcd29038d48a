"""Per-user limits on jobs, so one account can't turn the platform into a mail cannon:

- active jobs (JOBS_MAX_ACTIVE_PER_USER): a job counts while its status is active (not
  paused, completed or cancelled); creating one, resuming one or re-activating one by an
  update past the limit is refused. Counted under the owner's row lock (uploads take the
  same lock for the file quota), so two concurrent creates can't both take the last place.
- the shortest schedule of a mailing job (JOBS_MIN_MAILING_INTERVAL_SECONDS): a job whose
  runs send email (its kind's SENDS_EMAIL, or a mail on every success) may not run twice
  closer than that (jobs.schedules.shortest_gap).

0 turns a limit off. A refusal is an ApplicationError("quota_exceeded") — 413 in the API —
and an audit event `quota.refused` on the owner, recorded after the refused service's
transaction has rolled back (`quota_refusals_recorded`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone as django_timezone

from audit.services import audit_record
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from . import kinds
from .schedules import Schedule, shortest_gap
from .selectors import job_active_count

if TYPE_CHECKING:
    from accounts.models import User

P = ParamSpec("P")
R = TypeVar("R")


class QuotaExceeded(ApplicationError):
    """A refusal by one of these limits; `owner` and `kind` are for its audit event."""

    def __init__(self, message: str, *, owner: User, kind: str, details: dict[str, Any]) -> None:
        super().__init__(message, code="quota_exceeded", details=details)
        self.owner = owner
        self.kind = kind


def quota_refusals_recorded(service: Callable[P, R]) -> Callable[P, R]:
    """Audit the QuotaExceeded `service` raises. Put it above @transaction.atomic: the event
    is written once the service's own transaction has rolled back, so it stays."""

    @wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except QuotaExceeded as exc:
            audit_record(
                actor=exc.owner,
                action="quota.refused",
                target=exc.owner,
                details={**exc.details, "kind": exc.kind},
            )
            raise

    return wrapper


def owner_lock(owner_id: int) -> None:
    """Lock the owner's row for the rest of the transaction: what counts the owner's things
    against a limit (jobs here, bytes in files.services) waits for the others. Taken before
    a job's row lock, in the order deleting or deactivating a user takes them."""
    get_user_model().objects.select_for_update().filter(pk=owner_id).first()


def active_jobs_check(*, owner: User, kind: str) -> None:
    """Refuse one more active job for `owner` when they already have the most allowed.
    Under `owner_lock` the answer holds until the transaction ends."""
    limit = settings.JOBS_MAX_ACTIVE_PER_USER
    if not limit:
        return
    used = job_active_count(owner=owner)
    if used >= limit:
        raise QuotaExceeded(
            f"There are {used} active jobs already, the most allowed per user is {limit}: "
            "pause or cancel one first.",
            owner=owner,
            kind=kind,
            details={"quota": "active_jobs", "limit": limit, "used": used},
        )


def mailing(*, kind: str, notify_on: Sequence[str]) -> bool:
    """Whether a job with this kind and notify_on sends email on every run."""
    return kinds.sends_email(kind) or "succeeded" in notify_on


def mailing_interval_check(
    *, owner: User, kind: str, schedule: Schedule, timezone: str, notify_on: Sequence[str]
) -> None:
    """Refuse a mailing job whose schedule can run twice closer than the limit allows
    (input already checked: a known kind, a valid schedule and time zone)."""
    limit = settings.JOBS_MIN_MAILING_INTERVAL_SECONDS
    if not limit or not mailing(kind=kind, notify_on=notify_on):
        return
    gap = shortest_gap(schedule, zone_check(timezone), django_timezone.now())
    if gap is None or gap.total_seconds() >= limit:
        return
    seconds = int(gap.total_seconds())
    raise QuotaExceeded(
        f"This job sends email, so its runs must be at least {_duration(limit)} apart; "
        f"this schedule runs {_duration(seconds)} apart.",
        owner=owner,
        kind=kind,
        details={
            "quota": "min_mailing_interval_seconds",
            "limit": limit,
            "interval_seconds": seconds,
        },
    )


def _duration(seconds: int) -> str:
    """10 minutes, 1 minute, 90 seconds, 2 hours."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
