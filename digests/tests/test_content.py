"""What a digest says, rendered when it is sent: the right tasks and runs, times in the
user's zone, a plain-text subject; and one digest reaching a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from digests.content import LIST_LIMIT, digest_contexts_load
from digests.planning import digests_plan
from jobs.models import JobRun
from jobs.tests.factories import JobFactory, JobRunFactory
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from notifications.rendering import ContextGone, render
from notifications.sending import notifications_send_due
from tasks.tests.factories import TaskFactory

from .conftest import NOW

pytestmark = pytest.mark.django_db


def stored(user, **extra):
    return {
        "user_id": user.pk,
        "date": "2026-06-01",
        "timezone": user.timezone,
        "when_empty": False,
        **extra,
    }


def digest_context_load(one):
    """One digest's content, loaded alone."""
    (loaded,) = digest_contexts_load([one])
    if isinstance(loaded, ContextGone):
        raise loaded
    return loaded


def titles(items):
    return [item["title"] for item in items]


def test_it_lists_what_the_day_holds(berliner, other_user, at_nine):
    utc = UTC
    TaskFactory(owner=berliner, title="Late report", due_at=datetime(2026, 5, 28, 10, tzinfo=utc))
    TaskFactory(
        assignee=berliner, title="Assigned & late", due_at=datetime(2026, 6, 1, 6, 0, tzinfo=utc)
    )
    TaskFactory(owner=berliner, title="Call <Bob>", due_at=datetime(2026, 6, 1, 13, 0, tzinfo=utc))
    TaskFactory(owner=berliner, title="Tomorrow", due_at=datetime(2026, 6, 1, 22, 0, tzinfo=utc))
    TaskFactory(
        owner=berliner,
        title="Done yesterday",
        status="done",
        due_at=datetime(2026, 5, 20, tzinfo=utc),
        completed_at=datetime(2026, 5, 31, 21, 30, tzinfo=utc),  # 23:30 CEST
    )
    TaskFactory(
        owner=berliner,
        title="Done this morning",
        status="done",
        completed_at=datetime(2026, 5, 31, 22, 30, tzinfo=utc),  # 00:30 CEST today
    )
    TaskFactory(owner=other_user, title="Someone else's", due_at=datetime(2026, 5, 1, tzinfo=utc))
    job = JobFactory(owner=berliner, name="Nightly export")
    JobRunFactory(
        job=job,
        status=JobRun.Status.FAILED,
        finished_at=NOW - timedelta(hours=2),
        error="Traceback …\nValueError: disk full",
    )
    JobRunFactory(job=job, status=JobRun.Status.FAILED, finished_at=NOW - timedelta(hours=25))
    JobRunFactory(job=job, status=JobRun.Status.SUCCEEDED, finished_at=NOW - timedelta(hours=1))
    JobRunFactory(job=JobFactory(owner=other_user), status=JobRun.Status.FAILED, finished_at=NOW)

    context = digest_context_load(stored(berliner))

    assert titles(context["overdue"]) == ["Late report", "Assigned & late"]
    assert titles(context["due_today"]) == ["Call <Bob>"]
    assert titles(context["completed"]) == ["Done yesterday"]
    assert context["overdue"][0]["at"] == "Thu 28 May 12:00 CEST"
    assert context["completed"][0]["at"] == "Sun 31 May 23:30 CEST"
    assert [(r["job"], r["error"]) for r in context["failed_runs"]] == [
        ("Nightly export", "ValueError: disk full")
    ]
    rendered = render(Kind.DAILY_DIGEST, context, user=berliner)
    assert rendered.subject == (
        "Your digest for Mon 1 Jun 2026: 2 overdue, 1 due today, 1 completed, 1 failed run"
    )
    assert "Call <Bob> (due Mon 1 Jun 15:00 CEST)" in rendered.text
    assert "Assigned & late" in rendered.text
    assert "Call &lt;Bob&gt;" in rendered.html and "<Bob>" not in rendered.html
    assert "Nightly export" in rendered.text and "Tomorrow" not in rendered.text


def test_long_lists_are_cut_with_their_count(berliner, at_nine):
    for n in range(LIST_LIMIT + 5):
        TaskFactory(owner=berliner, title=f"Old {n}", due_at=datetime(2026, 1, 1, tzinfo=UTC))
    context = digest_context_load(stored(berliner))
    assert len(context["overdue"]) == LIST_LIMIT and context["overdue_count"] == LIST_LIMIT + 5
    text = render(Kind.DAILY_DIGEST, context, user=berliner).text
    assert f"and {LIST_LIMIT + 5} in all" in text


def test_an_empty_digest_is_not_sent_unless_asked(berliner, at_nine):
    with pytest.raises(ContextGone):
        digest_context_load(stored(berliner))
    context = digest_context_load(stored(berliner, when_empty=True))
    assert "Nothing overdue" in render(Kind.DAILY_DIGEST, context, user=berliner).text


def test_a_batch_loads_each_digest_with_its_own_content(berliner, other_user, at_nine):
    other_user.timezone = "Asia/Kolkata"  # 12:40 there
    other_user.save()
    late = datetime(2026, 5, 28, 10, tzinfo=UTC)
    TaskFactory(owner=berliner, title="Berlin late", due_at=late)
    for n in range(LIST_LIMIT + 2):
        TaskFactory(owner=other_user, title=f"Kolkata {n}", due_at=late)
    TaskFactory(owner=other_user, title="Kolkata tonight", due_at=NOW + timedelta(hours=5))
    quiet = UserFactory()

    loaded = digest_contexts_load(
        [
            stored(berliner),
            stored(quiet),
            {"date": "2026-06-01"},
            stored(other_user),
            stored(quiet, when_empty=True),
        ]
    )

    berlin, nothing, nobody, kolkata, asked_empty = loaded
    assert titles(berlin["overdue"]) == ["Berlin late"] and berlin["due_today"] == []
    assert str(nothing) == "nothing to report" and str(nobody) == "the digest names no user"
    assert kolkata["overdue_count"] == LIST_LIMIT + 2 and len(kolkata["overdue"]) == LIST_LIMIT
    assert titles(kolkata["due_today"]) == ["Kolkata tonight"]
    assert kolkata["due_today"][0]["at"] == "Mon 1 Jun 17:40 IST"
    assert asked_empty["overdue_count"] == 0 and asked_empty["overdue"] == []


def test_a_digest_reaches_a_real_smtp_server_once(berliner, smtp_server):
    TaskFactory(owner=berliner, title="Tom & Jerry <3", due_at=timezone.now() - timedelta(days=1))
    preference = NotificationPreference.objects.get(user=berliner)
    preference.digest_hour = timezone.now().astimezone(ZoneInfo(berliner.timezone)).hour
    preference.save()

    assert digests_plan()["queued"] == 1
    assert digests_plan()["queued"] == 0
    notifications_send_due()

    notification = Notification.objects.get(kind=Kind.DAILY_DIGEST)
    assert notification.status == Notification.Status.SENT
    assert len(smtp_server.messages) == 1
    message = message_from_bytes(smtp_server.messages[0].original_content)
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("Your digest for ") and "1 overdue" in subject
    assert "Tom & Jerry <3" in notification.body_text
    assert smtp_server.messages[0].rcpt_tos == [berliner.email]
