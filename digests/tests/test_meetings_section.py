"""The digest's meetings: the local day's, the user's own or not declined, in their zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digests.content import LIST_LIMIT, digest_contexts_load
from digests.planning import digests_plan
from meetings import services
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from notifications.rendering import ContextGone, render

from .conftest import NOW

pytestmark = pytest.mark.django_db


def stored(user):
    return {"user_id": user.pk, "date": "2026-06-01", "timezone": user.timezone}


def meeting(organizer, title, starts_at, *, minutes=60, people=(), **kwargs):
    kwargs.setdefault("type", "in_person")
    kwargs.setdefault("location", "Room 4")
    return services.meeting_create(
        organizer=organizer,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        participant_emails=[p.email for p in people],
        **kwargs,
    )


def test_the_day_s_meetings_are_listed_in_the_user_s_zone(berliner, other_user, at_nine):
    meeting(berliner, "Mine <1:1>", datetime(2026, 6, 1, 12, tzinfo=UTC))
    meeting(
        other_user,
        "Early call",
        datetime(2026, 6, 1, 6, tzinfo=UTC),  # over already, but that day's
        minutes=30,
        people=[berliner],
        type="virtual",
        location="",
        url="https://meet.example.com/early",
    )
    meeting(
        other_user, "Across midnight", datetime(2026, 5, 31, 21, 30, tzinfo=UTC), people=[berliner]
    )
    declined = meeting(
        other_user, "Declined", datetime(2026, 6, 1, 9, tzinfo=UTC), people=[berliner]
    )
    services.meeting_respond(meeting=declined, user=berliner, response="declined")
    cancelled = meeting(
        other_user, "Cancelled", datetime(2026, 6, 1, 10, tzinfo=UTC), people=[berliner]
    )
    services.meeting_cancel(meeting=cancelled, actor=other_user)
    meeting(other_user, "Tomorrow", datetime(2026, 6, 1, 22, 30, tzinfo=UTC), people=[berliner])
    meeting(other_user, "Not mine", datetime(2026, 6, 1, 9, tzinfo=UTC))

    (context,) = digest_contexts_load([stored(berliner)])

    assert context["meetings_count"] == 3
    assert context["meetings"] == [
        {
            "title": "Across midnight",
            "at": "Sun 31 May 23:30 CEST",
            "until": "Mon 1 Jun 00:30 CEST",
            "where": "Room 4",
        },
        {
            "title": "Early call",
            "at": "Mon 1 Jun 08:00 CEST",
            "until": "08:30",
            "where": "https://meet.example.com/early",
        },
        {"title": "Mine <1:1>", "at": "Mon 1 Jun 14:00 CEST", "until": "15:00", "where": "Room 4"},
    ]
    rendered = render(Kind.DAILY_DIGEST, context, user=berliner)
    assert rendered.subject.endswith(", 0 completed, 3 meetings")
    assert "Meetings today (3):" in rendered.text
    assert "  - Mine <1:1> (Mon 1 Jun 14:00 CEST to 15:00, Room 4)" in rendered.text
    assert "Mine &lt;1:1&gt;" in rendered.html and "Declined" not in rendered.text


def test_a_long_day_is_cut_with_its_count(berliner, at_nine):
    for n in range(LIST_LIMIT + 3):
        meeting(berliner, f"Slot {n}", datetime(2026, 6, 1, 8, tzinfo=UTC) + timedelta(minutes=n))
    (context,) = digest_contexts_load([stored(berliner)])
    assert context["meetings_count"] == LIST_LIMIT + 3 and len(context["meetings"]) == LIST_LIMIT
    assert context["meetings"][0]["title"] == "Slot 0"


def test_a_batch_is_still_one_statement(berliner, other_user, at_nine, django_assert_num_queries):
    meeting(berliner, "Together", datetime(2026, 6, 1, 12, tzinfo=UTC), people=[other_user])
    with django_assert_num_queries(1):
        ada, other = digest_contexts_load([stored(berliner), stored(other_user)])
    assert ada["meetings_count"] == other["meetings_count"] == 1


def test_a_day_with_only_a_meeting_gets_its_digest(berliner, at_nine):
    (gone,) = digest_contexts_load([stored(berliner)])
    assert isinstance(gone, ContextGone)  # nothing to report yet
    assert digests_plan(now=NOW)["queued"] == 0
    NotificationPreference.objects.filter(user=berliner).update(digest_due_at=None)

    meeting(berliner, "Only this", datetime(2026, 6, 1, 12, tzinfo=UTC))

    assert digests_plan(now=NOW)["queued"] == 1
    (context,) = digest_contexts_load([stored(berliner)])
    assert [m["title"] for m in context["meetings"]] == ["Only this"]
    assert Notification.objects.filter(kind=Kind.DAILY_DIGEST, user=berliner).count() == 1


def test_a_declined_or_cancelled_meeting_alone_is_nothing_to_report(berliner, other_user, at_nine):
    declined = meeting(other_user, "No", datetime(2026, 6, 1, 12, tzinfo=UTC), people=[berliner])
    services.meeting_respond(meeting=declined, user=berliner, response="declined")
    mine = meeting(berliner, "Off", datetime(2026, 6, 1, 13, tzinfo=UTC))
    services.meeting_cancel(meeting=mine, actor=berliner)
    assert digests_plan(now=NOW)["queued"] == 0
    (gone,) = digest_contexts_load([stored(berliner)])
    assert isinstance(gone, ContextGone)


def test_the_organizer_sees_their_meeting_even_after_declining_it(berliner, other_user, at_nine):
    mine = meeting(berliner, "Own", datetime(2026, 6, 1, 12, tzinfo=UTC), people=[other_user])
    services.meeting_respond(meeting=mine, user=berliner, response="declined")
    assert digests_plan(now=NOW)["queued"] == 1  # the planner and the content agree
    (context,) = digest_contexts_load([stored(berliner)])
    assert [m["title"] for m in context["meetings"]] == ["Own"]
