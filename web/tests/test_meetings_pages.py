"""The web app's meetings pages: the list (upcoming, past, all), create and edit, a meeting's
page with answers and double-bookings, RSVP, remind now, cancel and the calendar feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from meetings import services
from meetings.models import FeedToken, Meeting, Participant
from notifications.kinds import Kind
from notifications.models import Notification

from .pages import HTMX, signed_in_client

pytestmark = pytest.mark.django_db


def soon(hours: int = 24) -> datetime:
    return (timezone.now() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def make_meeting(organizer: User, *, starts_at: datetime | None = None, minutes=60, **kwargs):
    starts_at = starts_at or soon()
    kwargs.setdefault("title", "Planning")
    kwargs.setdefault("type", "virtual")
    kwargs.setdefault("url", "https://meet.example.com/plan")
    return services.meeting_create(
        organizer=organizer,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        **kwargs,
    )


def form_data(**overrides) -> dict:
    data = {
        "title": "Design review",
        "description": "Bring sketches.",
        "type": "hybrid",
        "location": "Room 4",
        "url": "https://meet.example.com/review",
        "starts_at": "2030-03-04T10:00",
        "ends_at": "2030-03-04T11:30",
        "timezone": "Europe/Berlin",
        "participant_emails": "",
        "reminder_minutes": "60, 15",
    }
    data.update(overrides)
    return data


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


# --- who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/app/meetings/", "/app/meetings/new/", "/app/meetings/1/"])
def test_an_anonymous_visitor_is_sent_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/app/login/?next=")


def test_another_users_meeting_is_not_found_on_every_page():
    owner, stranger = UserFactory(), UserFactory()
    meeting = make_meeting(owner)
    client = signed_in_client(stranger)
    base = f"/app/meetings/{meeting.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "edit/").status_code == 404
    for action in ("respond/", "remind/", "cancel/"):
        assert client.post(base + action, {"response": "accepted"}).status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert b"Planning" not in client.get("/app/meetings/?show=all").content


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_upcoming_meetings_with_my_answer_in_my_zone():
    organizer = UserFactory(timezone="UTC")
    me = UserFactory(timezone="Europe/Berlin")
    start = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    make_meeting(
        organizer,
        title="Kick-off",
        type="hybrid",
        location="Room 1",
        starts_at=start,
        participant_emails=[me.email],
    )
    mine = make_meeting(me, title="My own", type="in_person", url="", location="Café")
    past = make_meeting(me, title="Last week", starts_at=soon(-24 * 7))
    response = signed_in_client(me).get("/app/meetings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kick-off" in html and "My own" in html and "Last week" not in html
    assert "10:00" in html  # 09:00 UTC in Berlin, in winter
    assert 'datetime="2030-01-15T10:00:00+01:00"' in html
    assert '<span class="badge needs_action">No answer yet</span>' in html
    assert '<span class="badge organizer">Organizer</span>' in html
    assert "Room 1" in html and "Café" in html and 'href="https://meet.example.com/plan"' in html
    assert 'aria-current="page">Upcoming' in html
    past_page = signed_in_client(me).get("/app/meetings/?show=past").content.decode()
    assert "Last week" in past_page and "Kick-off" not in past_page
    everything = signed_in_client(me).get("/app/meetings/?show=all").content.decode()
    assert all(title in everything for title in ("Kick-off", "My own", past.title))
    assert mine.pk  # made


def test_declined_and_cancelled_meetings_leave_the_upcoming_list():
    organizer, me = UserFactory(), UserFactory()
    declined = make_meeting(organizer, title="Declined one", participant_emails=[me.email])
    services.meeting_respond(meeting=declined, user=me, response="declined")
    cancelled = make_meeting(me, title="Called off")
    services.meeting_cancel(meeting=cancelled, actor=me)
    upcoming = signed_in_client(me).get("/app/meetings/").content.decode()
    assert "Declined one" not in upcoming and "Called off" not in upcoming
    everything = signed_in_client(me).get("/app/meetings/?show=all").content.decode()
    assert "Declined one" in everything and '<span class="badge cancelled">' in everything


def test_the_list_refreshes_on_live_events_as_a_partial():
    me = UserFactory()
    make_meeting(me, title="Live one")
    client = signed_in_client(me)
    page = client.get("/app/meetings/?show=all").content.decode()
    assert 'hx-trigger="live:meeting from:body, live:resync from:body"' in page
    assert 'hx-get="/app/meetings/?show=all"' in page
    partial = client.get(
        "/app/meetings/?show=all", headers={**HTMX, "HX-Target": "meeting-results"}
    )
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in html
    assert 'id="meeting-results"' in html and "Live one" in html


@pytest.mark.parametrize("count", [1, 25])
def test_the_list_takes_the_same_queries_for_few_or_many(count, django_assert_max_num_queries):
    me, other = UserFactory(), UserFactory()
    for n in range(count):
        make_meeting(other, title=f"M{n}", participant_emails=[me.email], starts_at=soon(n + 1))
    client = signed_in_client(me)
    client.get("/app/meetings/")  # the feed token is made on the first visit
    with django_assert_max_num_queries(6):
        response = client.get("/app/meetings/")
    assert response.status_code == 200
    assert response.content.decode().count("/app/meetings/") > min(count, 20)


# --- create ------------------------------------------------------------------------------------


def test_creating_a_hybrid_meeting_in_a_chosen_zone_with_participants():
    me, grace = UserFactory(), UserFactory(email="grace@example.com")
    ada = UserFactory(email="ada@example.com")
    client = signed_in_client(me)
    form = client.get("/app/meetings/new/")
    assert form.status_code == 200
    assert b'type="datetime-local"' in form.content
    response = client.post(
        "/app/meetings/new/",
        form_data(participant_emails="Grace@example.com,\nada@example.com; grace@example.com"),
    )
    meeting = Meeting.objects.get(title="Design review")
    assert response.status_code == 302
    assert response["Location"] == f"/app/meetings/{meeting.pk}/"
    assert meeting.organizer == me and meeting.type == "hybrid"
    assert meeting.starts_at == datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET)
    assert meeting.ends_at == datetime(2030, 3, 4, 10, 30, tzinfo=UTC)
    assert meeting.timezone == "Europe/Berlin"
    answers = dict(meeting.participants.values_list("user_id", "response"))
    assert answers == {me.pk: "accepted", grace.pk: "needs_action", ada.pk: "needs_action"}
    assert meeting.participants.get(user=me).reminder_minutes == [60, 15]
    assert AuditEvent.objects.filter(action="meeting.created", target_id=str(meeting.pk)).exists()


def test_the_time_zone_defaults_to_mine():
    me = UserFactory(timezone="America/New_York")
    html = signed_in_client(me).get("/app/meetings/new/").content.decode()
    assert '<option value="America/New_York" selected>' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"location": ""}, "location", "An in-person or hybrid meeting needs a location."),
        ({"type": "virtual"}, "location", "A virtual meeting has no location: make it hybrid."),
        ({"url": "javascript:alert(1)"}, "url", "An http or https address"),
        ({"ends_at": "2030-03-04T09:00"}, "ends_at", "The meeting must end after it starts."),
        ({"starts_at": "next tuesday"}, "starts_at", "A date and time"),
        ({"starts_at": "2030-03-04T10:00+02:00"}, "starts_at", "Without an offset"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Select a valid choice"),
        ({"title": ""}, "title", "This field is required."),
        ({"participant_emails": "nobody@example.com"}, "participant_emails", "No active user"),
        ({"participant_emails": "not-an-address"}, "participant_emails", "Not an email address"),
        ({"reminder_minutes": "15, soon"}, "reminder_minutes", "whole numbers of minutes"),
        ({"reminder_minutes": "1,2,3,4,5,6"}, "reminder_minutes", "whole numbers of minutes"),
        ({"reminder_minutes": "99999999"}, "reminder_minutes", "whole numbers of minutes"),
    ],
)
def test_bad_input_shows_the_form_again_with_the_error_on_its_field(overrides, field, message):
    me = UserFactory()
    response = signed_in_client(me).post("/app/meetings/new/", form_data(**overrides))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    # the error is tied to its input (Django's field group: aria-describedby / aria-invalid)
    assert f'id="id_{field}_error"' in html
    assert not Meeting.objects.exists()


def test_a_double_booked_participant_is_warned_about_after_saving():
    me, grace = UserFactory(), UserFactory(email="grace@example.com")
    other = UserFactory()
    make_meeting(
        other,
        title="Secret 1:1",
        starts_at=datetime(2030, 3, 4, 9, 0, tzinfo=UTC),
        participant_emails=[grace.email],
    )
    client = signed_in_client(me)
    response = client.post(
        "/app/meetings/new/", form_data(participant_emails="grace@example.com"), follow=True
    )
    html = response.content.decode()
    assert "Some participants are double-booked" in html
    assert "Double-booked: 1 other meeting" in html
    # not the other meeting's title: it isn't this user's to see
    assert "Secret 1:1" not in html


# --- edit ------------------------------------------------------------------------------------


def test_the_organizer_edits_the_meeting():
    me, grace, ada = UserFactory(), UserFactory(email="grace@example.com"), UserFactory()
    meeting = make_meeting(
        me,
        starts_at=datetime(2030, 6, 1, 8, 0, tzinfo=UTC),
        timezone="Europe/Berlin",
        participant_emails=[grace.email],
    )
    services.meeting_respond(meeting=meeting, user=grace, response="accepted")
    client = signed_in_client(me)
    page = client.get(f"/app/meetings/{meeting.pk}/edit/").content.decode()
    assert 'value="2030-06-01T10:00"' in page  # in the meeting's own zone (CEST)
    assert "grace@example.com" in page and "Reminders" not in page
    response = client.post(
        f"/app/meetings/{meeting.pk}/edit/",
        form_data(
            title="Planning, moved",
            type="virtual",
            location="",
            url="https://meet.example.com/plan",
            starts_at="2030-06-01T14:00",
            ends_at="2030-06-01T15:00",
            participant_emails=f"grace@example.com\n{ada.email}",
        ),
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "Planning, moved"
    assert meeting.starts_at == datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    assert meeting.sequence == 1
    answers = dict(meeting.participants.values_list("user__email", "response"))
    assert answers["grace@example.com"] == "needs_action"  # a new time asks again
    assert answers[ada.email] == "needs_action"
    assert AuditEvent.objects.filter(action="meeting.updated", target_id=str(meeting.pk)).exists()


def test_an_edit_with_an_error_changes_nothing():
    me = UserFactory()
    meeting = make_meeting(me)
    response = signed_in_client(me).post(
        f"/app/meetings/{meeting.pk}/edit/", form_data(type="in_person")
    )
    assert response.status_code == 422
    assert b"An in-person meeting has no URL: make it hybrid." in response.content
    meeting.refresh_from_db()
    assert meeting.title == "Planning" and meeting.sequence == 0


def test_only_the_organizer_edits_and_a_cancelled_meeting_stays_as_it_is():
    me, grace = UserFactory(), UserFactory()
    meeting = make_meeting(me, participant_emails=[grace.email])
    participant = signed_in_client(grace)
    refused = participant.get(f"/app/meetings/{meeting.pk}/edit/")
    assert refused.status_code == 403
    assert b"Only the organizer may change this meeting." in refused.content
    assert participant.post(f"/app/meetings/{meeting.pk}/edit/", form_data()).status_code == 403
    services.meeting_cancel(meeting=meeting, actor=me)
    cancelled = signed_in_client(me).post(f"/app/meetings/{meeting.pk}/edit/", form_data())
    assert cancelled.status_code == 409
    meeting.refresh_from_db()
    assert meeting.title == "Planning"


# --- a meeting's page -------------------------------------------------------------------------


def test_the_detail_page_shows_everything_and_the_organizers_actions():
    me = UserFactory(full_name="Ada Organizer")
    grace = UserFactory(email="grace@example.com", full_name="Grace")
    meeting = make_meeting(
        me,
        type="hybrid",
        location="Room 4",
        description="Agenda:\nthe plan",
        participant_emails=[grace.email],
    )
    services.meeting_respond(meeting=meeting, user=grace, response="tentative")
    html = signed_in_client(me).get(f"/app/meetings/{meeting.pk}/").content.decode()
    assert "<h1>Planning" in html and "Room 4" in html and "Agenda:<br>the plan" in html
    assert '<span class="badge tentative">Tentative</span>' in html
    assert "Remind everyone now" in html and "Cancel meeting" in html
    assert 'hx-confirm="Cancel' in html
    token = FeedToken.objects.get(user=me)
    assert f"http://testserver/calendar/{token.secret}.ics" in html
    assert 'hx-trigger="live:meeting from:body, live:resync from:body"' in html
    # a participant sees their answer buttons, not the organizer's actions
    theirs = signed_in_client(grace).get(f"/app/meetings/{meeting.pk}/").content.decode()
    assert "Cancel meeting" not in theirs and "Remind everyone now" not in theirs
    assert 'value="accepted"' in theirs and 'value="tentative"' in theirs
    assert 'class="primary" aria-pressed="true">Maybe' in theirs


def test_the_detail_page_names_the_conflicts_i_may_see():
    me, grace = UserFactory(), UserFactory()
    start = soon(48)
    meeting = make_meeting(me, title="Review", starts_at=start, participant_emails=[grace.email])
    make_meeting(
        me,
        title="Also mine",
        starts_at=start + timedelta(minutes=30),
        participant_emails=[grace.email],
    )
    make_meeting(UserFactory(), title="Not mine", starts_at=start, participant_emails=[grace.email])
    html = signed_in_client(me).get(f"/app/meetings/{meeting.pk}/").content.decode()
    assert "2 participants also have another meeting at this time" in html
    assert "Double-booked: 2 other meetings" in html  # grace
    assert "Also mine" in html and "Not mine" not in html


# --- RSVP, remind, cancel ----------------------------------------------------------------------


def test_a_participant_answers_and_the_list_of_answers_is_swapped():
    me, grace = UserFactory(), UserFactory(email="grace@example.com")
    meeting = make_meeting(me, participant_emails=[grace.email])
    client = signed_in_client(grace)
    response = client.post(
        f"/app/meetings/{meeting.pk}/respond/",
        {"response": "accepted", "reminder_minutes": "60, 10"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="meeting-participants"' in html
    assert '<span class="badge accepted">Accepted</span>' in html
    assert toast_of(response) == {"message": "Your answer: Accepted.", "level": "success"}
    participant = Participant.objects.get(meeting=meeting, user=grace)
    assert participant.response == "accepted" and participant.reminder_minutes == [60, 10]
    assert AuditEvent.objects.filter(action="meeting.responded", actor=grace).exists()
    # a bare answer keeps the reminders; a page without htmx goes back to the meeting
    plain = client.post(f"/app/meetings/{meeting.pk}/respond/", {"response": "declined"})
    assert plain.status_code == 302 and plain["Location"] == f"/app/meetings/{meeting.pk}/"
    participant.refresh_from_db()
    assert participant.response == "declined" and participant.reminder_minutes == [60, 10]


@pytest.mark.parametrize(
    "data",
    [
        {"response": "needs_action"},
        {"response": "maybe"},
        {},
        {"response": "accepted", "reminder_minutes": "soon"},
    ],
)
def test_a_bad_answer_is_refused_and_changes_nothing(data):
    me, grace = UserFactory(), UserFactory()
    meeting = make_meeting(me, participant_emails=[grace.email])
    response = signed_in_client(grace).post(
        f"/app/meetings/{meeting.pk}/respond/", data, headers=HTMX
    )
    assert response.status_code == 422
    assert 'id="meeting-participants"' in response.content.decode()
    assert Participant.objects.get(meeting=meeting, user=grace).response == "needs_action"


def test_answering_a_cancelled_meeting_is_a_conflict_message():
    me, grace = UserFactory(), UserFactory()
    meeting = make_meeting(me, participant_emails=[grace.email])
    services.meeting_cancel(meeting=meeting, actor=me)
    response = signed_in_client(grace).post(
        f"/app/meetings/{meeting.pk}/respond/", {"response": "accepted"}, headers=HTMX
    )
    assert response.status_code == 409
    assert b"<p data-message>This meeting is cancelled.</p>" in response.content


def test_the_organizer_reminds_everyone_now():
    me, grace = UserFactory(), UserFactory()
    meeting = make_meeting(me, participant_emails=[grace.email])
    client = signed_in_client(me)
    assert client.get(f"/app/meetings/{meeting.pk}/remind/").status_code == 405
    response = client.post(f"/app/meetings/{meeting.pk}/remind/", headers=HTMX)
    assert response.status_code == 204
    assert toast_of(response)["message"] == "Reminder emailed to 1 participant."
    assert Notification.objects.filter(user=grace, kind=Kind.MEETING_REMINDER).count() == 1
    assert AuditEvent.objects.filter(action="meeting.reminded", actor=me).exists()
    # a participant may not; a meeting that is over can't be
    assert signed_in_client(grace).post(f"/app/meetings/{meeting.pk}/remind/").status_code == 403
    over = make_meeting(me, starts_at=soon(-3))
    late = client.post(f"/app/meetings/{over.pk}/remind/", headers=HTMX)
    assert late.status_code == 409
    assert b"<p data-message>This meeting is over.</p>" in late.content


def test_the_organizer_cancels_and_a_participant_cannot():
    me, grace = UserFactory(), UserFactory()
    meeting = make_meeting(me, participant_emails=[grace.email])
    assert signed_in_client(grace).post(f"/app/meetings/{meeting.pk}/cancel/").status_code == 403
    client = signed_in_client(me)
    assert client.get(f"/app/meetings/{meeting.pk}/cancel/").status_code == 405
    response = client.post(f"/app/meetings/{meeting.pk}/cancel/", headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Location"] == f"/app/meetings/{meeting.pk}/"
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert AuditEvent.objects.filter(action="meeting.cancelled", actor=me).exists()
    page = client.get(f"/app/meetings/{meeting.pk}/").content.decode()
    assert "Meeting cancelled" in page and "Cancel meeting" not in page
    again = client.post(f"/app/meetings/{meeting.pk}/cancel/", headers=HTMX)
    assert again.status_code == 409


def test_posting_without_the_csrf_token_is_refused():
    me = UserFactory()
    meeting = make_meeting(me)
    client = signed_in_client(me, enforce_csrf_checks=True)
    assert client.post(f"/app/meetings/{meeting.pk}/cancel/").status_code == 403
    assert client.post("/app/meetings/new/", form_data()).status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


# --- the calendar feed -----------------------------------------------------------------------


def test_the_feed_address_is_shown_and_a_new_one_replaces_it():
    me = UserFactory()
    client = signed_in_client(me)
    page = client.get("/app/meetings/").content.decode()
    old = FeedToken.objects.get(user=me).secret
    assert f"/calendar/{old}.ics" in page and "readonly" in page
    response = client.post("/app/meetings/feed/rotate/", headers=HTMX)
    assert response.status_code == 200
    new = FeedToken.objects.get(user=me).secret
    assert new != old
    html = response.content.decode()
    assert f"/calendar/{new}.ics" in html and old not in html and "<html" not in html
    assert "old one no longer works" in toast_of(response)["message"]
    assert AuditEvent.objects.filter(action="meeting.feed_rotated", actor=me).exists()
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    assert Client().get(f"/calendar/{new}.ics").status_code == 200
    assert client.get("/app/meetings/feed/rotate/").status_code == 405
