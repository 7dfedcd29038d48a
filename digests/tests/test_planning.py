"""The digest sweep: at the user's local digest hour (DST, half-hour zones), once per local
date however often it runs, empty digests skipped unless asked, who gets nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from digests.planning import digests_plan
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def subscriber(zone: str = "UTC", hour: int = 9, *, tasks: bool = True, **prefs):
    """A user who wants the digest at `hour` in `zone`; with an overdue task (not empty)."""
    user = UserFactory(timezone=zone)
    NotificationPreference.objects.create(user=user, daily_digest=True, digest_hour=hour, **prefs)
    if tasks:
        TaskFactory(owner=user, due_at=utc(2020, 1, 1))
    return user


def digests(user=None) -> list[str]:
    rows = Notification.objects.filter(kind=Kind.DAILY_DIGEST).order_by("id")
    if user is not None:
        rows = rows.filter(user=user)
    return list(rows.values_list("idempotency_key", flat=True))


def test_berlin_at_nine_across_the_march_change():
    """09:00 in Berlin is 08:00 UTC before 29 March 2026 and 07:00 UTC from then on."""
    user = subscriber("Europe/Berlin", 9)
    key = f"daily_digest:{user.pk}"
    for now, expected in [
        (utc(2026, 3, 28, 7, 59), []),
        (utc(2026, 3, 28, 8, 0), [f"{key}:2026-03-28"]),
        (utc(2026, 3, 28, 8, 59), [f"{key}:2026-03-28"]),
        (utc(2026, 3, 29, 6, 59), [f"{key}:2026-03-28"]),  # 08:59 CEST
        (utc(2026, 3, 29, 7, 0), [f"{key}:2026-03-28", f"{key}:2026-03-29"]),
        (utc(2026, 3, 29, 8, 0), [f"{key}:2026-03-28", f"{key}:2026-03-29"]),  # 10:00 CEST
    ]:
        digests_plan(now=now)
        assert digests(user) == expected, now


def test_berlin_at_nine_across_the_october_change():
    user = subscriber("Europe/Berlin", 9)
    digests_plan(now=utc(2026, 10, 24, 7, 5))  # 09:05 CEST
    digests_plan(now=utc(2026, 10, 25, 7, 5))  # 08:05 CET: not yet
    assert len(digests(user)) == 1
    digests_plan(now=utc(2026, 10, 25, 8, 5))  # 09:05 CET
    assert digests(user)[-1].endswith(":2026-10-25")


def test_a_digest_hour_inside_the_spring_gap_comes_right_after_it():
    """02:00-03:00 doesn't exist in Berlin on 29 March 2026: the 02:00 digest goes at 03:00."""
    user = subscriber("Europe/Berlin", 2)
    digests_plan(now=utc(2026, 3, 29, 0, 30))  # 01:30 CET
    assert digests(user) == []
    digests_plan(now=utc(2026, 3, 29, 1, 10))  # 03:10 CEST
    assert digests(user) == [f"daily_digest:{user.pk}:2026-03-29"]


def test_a_half_hour_zone():
    """09:00 in Kolkata (+05:30) is 03:30 UTC; its local date is already the next day when
    it is 23:00 UTC the evening before."""
    user = subscriber("Asia/Kolkata", 9)
    digests_plan(now=utc(2026, 6, 1, 3, 29))
    assert digests(user) == []
    digests_plan(now=utc(2026, 6, 1, 3, 30))
    digests_plan(now=utc(2026, 6, 1, 4, 29))
    assert digests(user) == [f"daily_digest:{user.pk}:2026-06-01"]
    early = subscriber("Asia/Kolkata", 4)
    digests_plan(now=utc(2026, 6, 1, 23, 0))  # 04:30 on 2 June in Kolkata
    assert digests(early) == [f"daily_digest:{early.pk}:2026-06-02"]


def test_only_users_due_now_are_queued():
    due = subscriber("UTC", 9)
    later = subscriber("UTC", 10)
    elsewhere = subscriber("America/New_York", 9)
    digests_plan(now=utc(2026, 6, 1, 9, 1))
    assert digests() == [f"daily_digest:{due.pk}:2026-06-01"]
    assert digests(later) == digests(elsewhere) == []


def test_many_sweeps_in_the_hour_queue_one_digest():
    users = [subscriber("UTC", 9) for _ in range(5)]
    for minute in range(0, 60, 7):
        digests_plan(now=utc(2026, 6, 1, 9, minute), batch=2)
        # a stale bookkeeping column (e.g. an operator reset it) changes nothing either
        NotificationPreference.objects.update(digest_due_at=None)
    assert sorted(digests()) == sorted(f"daily_digest:{u.pk}:2026-06-01" for u in users)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_queue_each_digest_once():
    users = [subscriber("UTC", 9) for _ in range(40)]
    now = utc(2026, 6, 1, 9, 5)
    start = threading.Barrier(2)
    results = []

    def sweep():
        start.wait()
        try:
            results.append(digests_plan(now=now, batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["queued"] for r in results) == 40
    assert sorted(digests()) == sorted(f"daily_digest:{u.pk}:2026-06-01" for u in users)


def test_the_next_digest_hour_is_remembered():
    user = subscriber("Europe/Berlin", 9)
    digests_plan(now=utc(2026, 3, 28, 8, 10))
    preference = NotificationPreference.objects.get(user=user)
    assert preference.digest_due_at == utc(2026, 3, 29, 7, 0)  # 09:00 CEST


def test_a_changed_digest_hour_is_followed():
    """The stored instant is only a hint: a user who moved their hour from 9 to 11 is not
    mailed at 9, but at 11 the same day."""
    user = subscriber("UTC", 9)
    digests_plan(now=utc(2026, 6, 1, 8, 0))  # planned for 09:00
    NotificationPreference.objects.filter(user=user).update(digest_hour=11)
    digests_plan(now=utc(2026, 6, 1, 9, 0))
    assert digests(user) == []
    digests_plan(now=utc(2026, 6, 1, 11, 0))
    assert digests(user) == [f"daily_digest:{user.pk}:2026-06-01"]


def test_empty_digests_are_skipped_unless_asked():
    quiet = subscriber("UTC", 9, tasks=False)
    asked = subscriber("UTC", 9, tasks=False, digest_when_empty=True)
    result = digests_plan(now=utc(2026, 6, 1, 9, 0))
    assert result["queued"] == 1
    assert digests() == [f"daily_digest:{asked.pk}:2026-06-01"]
    assert digests(quiet) == []


@pytest.mark.parametrize(
    "what",
    ["completed yesterday", "due today", "assigned overdue", "failed run"],
)
def test_anything_to_read_makes_a_digest(what):
    from jobs.models import JobRun
    from jobs.tests.factories import JobFactory, JobRunFactory

    user = subscriber("Europe/Berlin", 9, tasks=False)
    now = utc(2026, 6, 1, 7, 0)  # 09:00 CEST
    if what == "completed yesterday":  # 31 May, 23:30 CEST
        TaskFactory(owner=user, status="done", completed_at=utc(2026, 5, 31, 21, 30))
    elif what == "due today":  # 1 June, 23:59 CEST
        TaskFactory(owner=user, due_at=utc(2026, 6, 1, 21, 59))
    elif what == "assigned overdue":
        TaskFactory(assignee=user, due_at=utc(2026, 5, 1))
    else:
        JobRunFactory(
            job=JobFactory(owner=user),
            status=JobRun.Status.FAILED,
            finished_at=now - timedelta(hours=23),
        )
    digests_plan(now=now)
    assert len(digests(user)) == 1


@pytest.mark.parametrize(
    "what",
    ["completed the day before yesterday", "completed today", "due tomorrow", "old failure"],
)
def test_nothing_to_read_makes_no_digest(what):
    from jobs.models import JobRun
    from jobs.tests.factories import JobFactory, JobRunFactory

    user = subscriber("Europe/Berlin", 9, tasks=False)
    now = utc(2026, 6, 1, 7, 0)
    if what == "completed the day before yesterday":  # 30 May, 23:30 CEST
        TaskFactory(owner=user, status="done", completed_at=utc(2026, 5, 30, 21, 30))
    elif what == "completed today":  # 1 June 00:30 CEST: in tomorrow's digest
        TaskFactory(owner=user, status="done", completed_at=utc(2026, 5, 31, 22, 30))
    elif what == "due tomorrow":  # 2 June, 00:00 CEST
        TaskFactory(owner=user, due_at=utc(2026, 6, 1, 22, 0))
    else:
        JobRunFactory(
            job=JobFactory(owner=user),
            status=JobRun.Status.FAILED,
            finished_at=now - timedelta(hours=25),
        )
    digests_plan(now=now)
    assert digests(user) == []


def test_inactive_users_and_users_who_said_no_get_nothing_unverified_ones_wait():
    inactive = subscriber("UTC", 9)
    inactive.is_active = False
    inactive.save()
    said_no = subscriber("UTC", 9)
    NotificationPreference.objects.filter(user=said_no).update(daily_digest=False)
    unverified = subscriber("UTC", 9)
    unverified.email_verified_at = None
    unverified.save()
    digests_plan(now=utc(2026, 6, 1, 9, 0))
    assert digests(inactive) == digests(said_no) == []
    held = Notification.objects.get(user=unverified, kind=Kind.DAILY_DIGEST)
    assert held.status == Notification.Status.HELD
