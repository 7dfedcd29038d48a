"""The calendar feed: iCalendar for calendar apps, behind a secret that can be replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from meetings import services

pytestmark = pytest.mark.django_db


def planned(organizer, emails=(), **kwargs):
    starts = timezone.now().replace(microsecond=0) + timedelta(days=1)
    return services.meeting_create(
        organizer=organizer,
        title=kwargs.pop("title", "Planning"),
        type="in_person",
        location="Room 4",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        participant_emails=emails,
        **kwargs,
    )


def feed_of(client) -> str:
    url = client.get("/api/v1/meetings/feed/").json()["url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://testserver")


def test_the_feed_lists_my_meetings_with_answers_and_cancellations(
    client, user_client, other_user, user
):
    meeting = planned(user, [other_user.email])
    cancelled = planned(user, title="Dropped")
    services.meeting_cancel(meeting=cancelled, actor=user)
    services.meeting_respond(meeting=meeting, user=other_user, response="tentative")
    answer = client.get(feed_of(user_client))  # no sign-in: the secret is the key
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Planning", "Dropped"}
    assert str(events["Dropped"]["status"]) == "CANCELLED" and events["Dropped"]["sequence"] == 1
    event = events["Planning"]
    assert event["dtstart"].dt == meeting.starts_at and str(event["location"]) == "Room 4"
    attendees = {str(a): a.params["PARTSTAT"] for a in event["attendee"]}
    assert attendees[f"mailto:{other_user.email}"] == "TENTATIVE"


def test_rotating_the_secret_stops_the_old_address(client, user_client, user):
    planned(user)
    old = feed_of(user_client)
    rotated = user_client.post("/api/v1/meetings/feed/rotate/").json()["url"]
    assert rotated.removeprefix("http://testserver") != old
    assert client.get(old).status_code == 404
    assert client.get(rotated.removeprefix("http://testserver")).status_code == 200


def test_a_wrong_secret_or_a_deactivated_owner_is_a_404(client, user_client, user):
    assert client.get("/calendar/nothing-here.ics").status_code == 404
    url = feed_of(user_client)
    user.is_active = False
    user.save()
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 405
