"""Meetings: create, change, cancel, answer; who is double-booked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from meetings import selectors, services
from meetings.models import Meeting
from taskplatform.exceptions import ApplicationError

pytestmark = pytest.mark.django_db
NINE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def meeting(organizer, *, starts_at=NINE, minutes=60, emails=(), **kwargs) -> Meeting:
    kwargs.setdefault("title", "Stand-up")
    kwargs.setdefault("type", "virtual")
    kwargs.setdefault("url", "https://meet.example.com/x")
    return services.meeting_create(
        organizer=organizer,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        participant_emails=emails,
        **kwargs,
    )


def test_the_organizer_takes_part_and_the_invited_are_asked(user, other_user):
    m = meeting(user, emails=[other_user.email.upper(), other_user.email])
    answers = dict(m.participants.values_list("user_id", "response"))
    assert answers == {user.pk: "accepted", other_user.pk: "needs_action"}
    assert all(r == [15] for r in m.participants.values_list("reminder_minutes", flat=True))
    assert AuditEvent.objects.filter(action="meeting.created", target_id=str(m.pk)).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"type": "party"}, "type"),
        ({"type": "in_person", "url": ""}, "location"),
        ({"type": "in_person", "location": "Room 1"}, "url"),  # has a URL: hybrid
        ({"type": "hybrid", "location": ""}, "location"),
        ({"type": "virtual", "url": "", "location": "Room 1"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"type": "in_person", "url": "", "location": "x" * 301}, "location"),
        ({"minutes": 0}, "ends_at"),
        ({"minutes": 8 * 24 * 60}, "ends_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": datetime(2026, 12, 1, 9, 0)}, "starts_at"),  # no offset
        ({"emails": ["nobody@example.com"]}, "participant_emails"),
        ({"reminder_minutes": [15, -1]}, "reminder_minutes"),
        ({"reminder_minutes": [1, 2, 3, 4, 5, 6]}, "reminder_minutes"),
        ({"reminder_minutes": [True]}, "reminder_minutes"),
    ],
)
def test_bad_meetings_are_refused_with_the_field_and_nothing_is_written(user, kwargs, field):
    with pytest.raises(ApplicationError) as error:
        meeting(user, **kwargs)
    assert error.value.code == "validation_error" and field in error.value.details
    assert not Meeting.objects.exists() and not AuditEvent.objects.exists()


def test_a_deactivated_user_can_t_be_invited(user, other_user):
    other_user.is_active = False
    other_user.save()
    with pytest.raises(ApplicationError) as error:
        meeting(user, emails=[other_user.email])
    assert "participant_emails" in error.value.details


def test_a_new_time_raises_the_sequence_and_asks_everyone_again(user, other_user):
    m = meeting(user, emails=[other_user.email])
    services.meeting_respond(meeting=m, user=other_user, response="accepted")
    m = services.meeting_update(
        meeting=m,
        actor=user,
        starts_at=NINE + timedelta(hours=1),
        ends_at=NINE + timedelta(hours=2),
    )
    assert m.sequence == 1
    answers = dict(m.participants.values_list("user_id", "response"))
    assert answers == {user.pk: "accepted", other_user.pk: "needs_action"}
    event = AuditEvent.objects.get(action="meeting.updated")
    assert event.details["changed"] == ["starts_at", "ends_at"]


def test_a_new_title_keeps_the_answers_and_nothing_changed_changes_nothing(user, other_user):
    m = meeting(user, emails=[other_user.email])
    services.meeting_respond(meeting=m, user=other_user, response="tentative")
    m = services.meeting_update(meeting=m, actor=user, title="Retro")
    assert m.sequence == 1 and m.participants.get(user=other_user).response == "tentative"
    m = services.meeting_update(meeting=m, actor=user, title="Retro")
    assert m.sequence == 1 and AuditEvent.objects.filter(action="meeting.updated").count() == 1


def test_participants_are_replaced_and_those_who_stay_keep_their_answer(user, other_user):
    third = UserFactory.create()
    m = meeting(user, emails=[other_user.email])
    services.meeting_respond(meeting=m, user=other_user, response="accepted")
    services.meeting_update(
        meeting=m, actor=user, participant_emails=[other_user.email, third.email]
    )
    assert dict(m.participants.values_list("user_id", "response")) == {
        user.pk: "accepted",
        other_user.pk: "accepted",
        third.pk: "needs_action",
    }
    m = services.meeting_update(meeting=m, actor=user, participant_emails=[third.email])
    assert set(m.participants.values_list("user_id", flat=True)) == {user.pk, third.pk}
    assert m.sequence == 2


def test_only_the_organizer_changes_or_cancels_and_a_cancelled_meeting_stays_so(user, other_user):
    m = meeting(user, emails=[other_user.email])
    for call in (
        lambda: services.meeting_update(meeting=m, actor=other_user, title="Mine"),
        lambda: services.meeting_cancel(meeting=m, actor=other_user),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.code == "permission_denied"
    m = services.meeting_cancel(meeting=m, actor=user)
    assert m.status == "cancelled" and m.sequence == 1
    with pytest.raises(ApplicationError) as error:
        services.meeting_update(meeting=m, actor=user, title="Back")
    assert error.value.code == "conflict"
    with pytest.raises(ApplicationError) as error:
        services.meeting_respond(meeting=m, user=other_user, response="accepted")
    assert error.value.code == "conflict"


def test_an_unknown_field_is_refused(user):
    m = meeting(user)
    with pytest.raises(ApplicationError) as error:
        services.meeting_update(meeting=m, actor=user, organizer_id=5)
    assert "organizer_id" in error.value.details


def test_answers_and_reminders(user, other_user):
    m = meeting(user, emails=[other_user.email])
    p = services.meeting_respond(
        meeting=m, user=other_user, response="declined", reminder_minutes=[5, 60, 5]
    )
    assert p.response == "declined" and p.reminder_minutes == [60, 5]
    for bad in ("needs_action", "maybe"):
        with pytest.raises(ApplicationError):
            services.meeting_respond(meeting=m, user=other_user, response=bad)
    stranger = UserFactory.create()
    with pytest.raises(ApplicationError) as error:
        services.meeting_respond(meeting=m, user=stranger, response="accepted")
    assert error.value.code == "not_found"


def test_a_user_sees_meetings_they_organize_or_are_invited_to(user, other_user):
    mine = meeting(user)
    invited = meeting(other_user, emails=[user.email])
    meeting(other_user)  # not mine
    assert set(selectors.meeting_list(user=user)) == {mine, invited}


def test_upcoming_leaves_out_past_cancelled_and_declined(user, other_user):
    now = NINE + timedelta(minutes=30)
    running = meeting(user)  # 9:00-10:00: not over
    meeting(user, starts_at=NINE - timedelta(days=1))  # over
    later = meeting(user, starts_at=NINE + timedelta(days=1))
    services.meeting_cancel(meeting=meeting(user, starts_at=NINE + timedelta(days=2)), actor=user)
    declined = meeting(other_user, emails=[user.email], starts_at=NINE + timedelta(days=3))
    services.meeting_respond(meeting=declined, user=user, response="declined")
    assert list(selectors.meetings_upcoming(user=user, now=now)) == [running, later]


def test_double_bookings_are_found_per_participant(user, other_user):
    m = meeting(user, emails=[other_user.email])  # 9:00-10:00
    clash = meeting(other_user, starts_at=NINE + timedelta(minutes=30))  # 9:30-10:30
    meeting(other_user, starts_at=NINE + timedelta(hours=1))  # 10:00: touches, no clash
    declined = meeting(UserFactory.create(), emails=[user.email], starts_at=NINE)
    services.meeting_respond(meeting=declined, user=user, response="declined")
    assert selectors.meeting_conflicts(meeting=m) == {other_user.pk: [clash]}
    services.meeting_cancel(meeting=clash, actor=other_user)
    assert selectors.meeting_conflicts(meeting=m) == {}
