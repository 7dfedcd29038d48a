"""Planning the daily digest: at each user's local digest hour, one email per local date.

Which users are due is kept in the database, per user: `digest_due_at` on their preference
row is the instant their next digest hour starts (UTC, computed by PostgreSQL in their own
zone, DST included; see digests/zoned.py). The sweep (beat, every minute) reads only rows
whose instant has come, through a partial index (`daily_digest AND digest_due_at`), so a
sweep touches the users due now and no one else: the set of time zones whose hour is each
user's digest hour changes with every DST switch, and a stored instant, recomputed from the
zone after each digest, follows it without a table of offsets.

Per batch of due rows (locked SKIP LOCKED, so two sweeps at once share the work):
1. one INSERT … SELECT (notifications_queue_bulk) queues a `daily_digest` row for every
   user whose digest hour is really now (the check guards against a stale instant: the
   user changed their hour or zone since it was computed) and who has something to read
   (tasks, failed runs, that day's meetings) or asked for empty digests, keyed
   `daily_digest:<user>:<local date>` — a second sweep, or two at once, queue nothing new;
2. one UPDATE moves each row's instant to its next digest hour (tomorrow's, or today's if a
   changed preference put it later today).
Rows carry the user, local date and zone; the sender renders them (digests/content.py).
A digest hour missed entirely (no sweep ran during it) is not sent late: the next is.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, JSONObject
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from jobs.selectors import run_failed_list
from meetings.selectors import meeting_digest_list
from notifications.kinds import Kind
from notifications.models import NotificationPreference
from notifications.services import notifications_queue_bulk
from tasks.models import Task
from tasks.selectors import task_digest_list

from .zoned import LocalDate, ZonedInstant

HOUR = timedelta(hours=1)
# preference rows per transaction: one INSERT … SELECT and one UPDATE each
BATCH = 2000
SUBJECT = "Your daily digest"  # until the sender renders the row


def digests_plan(*, now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """Plan the digests due at `now` (default: the clock, batch by batch); returns how many
    preference rows were looked at (`due`) and digests queued (`queued`).

    Stops early past half the Celery soft time limit: what is left stays due, and the next
    sweep (a minute later) goes on with it.
    """
    deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    totals = {"planned": 0, "due": 0, "queued": 0}
    while time.monotonic() < deadline:
        at = now or timezone.now()
        with transaction.atomic():
            unplanned = _locked(_prefs().filter(digest_due_at__isnull=True), batch)
            _due_at_set(unplanned, at, grace=HOUR)
        with transaction.atomic():
            due = _locked(_prefs().filter(digest_due_at__lte=at).order_by("digest_due_at"), batch)
            if due:
                totals["queued"] += notifications_queue_bulk(
                    kind=Kind.DAILY_DIGEST, rows=digest_rows(ids=due, now=at), now=at
                )
                _due_at_set(due, at, grace=timedelta(0))
        totals["planned"] += len(unplanned)
        totals["due"] += len(due)
        if len(unplanned) < batch and len(due) < batch:
            break
    return totals


def _prefs() -> QuerySet[NotificationPreference]:
    return NotificationPreference.objects.filter(daily_digest=True)


def _locked(rows: QuerySet[NotificationPreference], batch: int) -> list[int]:
    """Up to `batch` ids of `rows`, locked for this transaction (others skip them)."""
    return list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch])


def digest_rows(*, ids: list[int], now: datetime) -> QuerySet:
    """The digests to queue for preference rows `ids` at `now`, shaped for
    notifications_queue_bulk: users whose digest hour is now and who have something to read
    (or asked for empty digests)."""
    zone = F("user__timezone")
    text: CharField[str, str] = CharField()
    local_date = Cast(LocalDate(Value(now), zone), text)
    person = OuterRef("user_id")
    tasks = task_digest_list(person=person)
    something = (
        Exists(
            tasks.filter(
                status=Task.Status.DONE,
                completed_at__gte=OuterRef("yesterday_starts"),
                completed_at__lt=OuterRef("today_starts"),
            )
        )
        | Exists(
            tasks.exclude(status=Task.Status.DONE).filter(due_at__lt=OuterRef("tomorrow_starts"))
        )
        | Exists(run_failed_list(owner=person, since=now - 24 * HOUR))
        | Exists(
            meeting_digest_list(person=person).filter(
                starts_at__lt=OuterRef("tomorrow_starts"), ends_at__gt=OuterRef("today_starts")
            )
        )
    )
    return (
        NotificationPreference.objects.filter(pk__in=ids)
        .alias(
            hour_starts=ZonedInstant(Value(now), zone, F("digest_hour")),
            yesterday_starts=ZonedInstant(Value(now), zone, Value(0), days=-1),
            today_starts=ZonedInstant(Value(now), zone, Value(0)),
            tomorrow_starts=ZonedInstant(Value(now), zone, Value(0), days=1),
        )
        .filter(hour_starts__lte=now, hour_starts__gt=now - HOUR)
        .filter(Q(digest_when_empty=True) | something)
        .values(
            "user_id",
            to_email=F("user__email"),
            subject=Value(SUBJECT, output_field=text),
            context=JSONObject(
                user_id=F("user_id"),
                date=local_date,
                timezone=zone,
                when_empty=F("digest_when_empty"),
            ),
            idempotency_key=Concat(
                Value("daily_digest:"),
                Cast("user_id", text),
                Value(":"),
                local_date,
                output_field=text,
            ),
        )
    )


def _due_at_set(ids: list[int], now: datetime, *, grace: timedelta) -> None:
    """Each row's next digest hour: today's if it starts after `now - grace`, else
    tomorrow's (grace 1 h: a user planned during their digest hour gets today's)."""
    if not ids:
        return
    zone = Subquery(get_user_model().objects.filter(pk=OuterRef("user_id")).values("timezone"))
    today = ZonedInstant(Value(now), zone, F("digest_hour"))
    tomorrow = ZonedInstant(Value(now), zone, F("digest_hour"), days=1)
    NotificationPreference.objects.filter(pk__in=ids).update(
        digest_due_at=Case(
            When(GreaterThan(today, Value(now - grace)), then=today), default=tomorrow
        )
    )
