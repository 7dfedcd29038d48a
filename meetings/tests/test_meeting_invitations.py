"""Invitations, updates and cancellations: queued with the change, sent over SMTP (aiosmtpd)
with an iTIP attachment a calendar app acts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from meetings import services
from meetings.calendar import uid
from meetings.invitations import invitations_queue
from meetings.models import Meeting
from notifications.models import Notification
from notifications.sending import notifications_send_due
from notifications.services import notification_resend

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NINE = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)  # 08:00 UTC


@pytest.fixture
def ada():
    return UserFactory(full_name="Ada Lovelace")


@pytest.fixture
def bob():
    return UserFactory(full_name="Bob")


@pytest.fixture
def cy():
    return UserFactory(full_name="Cy")


def planned(organizer, people, *, starts_at=NINE, zone="Europe/Berlin", **kwargs) -> Meeting:
    return services.meeting_create(
        organizer=organizer,
        title="Planning & <budget>",
        type="hybrid",
        location="Room 4",
        url="https://meet.example.com/p",
        description="Bring the numbers",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        timezone=zone,
        participant_emails=[p.email for p in people],
        **kwargs,
    )


class Sent:
    def __init__(self, envelope) -> None:
        self.to = envelope.rcpt_tos[0]
        self.message: EmailMessage = message_from_bytes(  # type: ignore[assignment]
            envelope.original_content, policy=policy.default
        )
        self.subject = str(self.message["Subject"])
        (self.part,) = [p for p in self.message.walk() if p.get_content_type() == "text/calendar"]
        self.calendar = Calendar.from_ical(self.part.get_payload(decode=True))
        (self.event,) = self.calendar.events

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    @property
    def method(self) -> str:
        return str(self.calendar["method"])

    @property
    def sequence(self) -> int:
        return int(self.event["sequence"])

    @property
    def attendees(self) -> dict[str, str]:
        found = self.event.get("attendee", [])
        found = found if isinstance(found, list) else [found]
        return {str(a).removeprefix("mailto:"): a.params.get("PARTSTAT") for a in found}


def sent(smtp_server) -> dict[str, Sent]:
    """Send what is queued; the messages the server got since the last call, by recipient."""
    notifications_send_due()
    messages = [Sent(envelope) for envelope in smtp_server.messages]
    smtp_server.messages.clear()
    by_recipient = {m.to: m for m in messages}
    assert len(by_recipient) == len(messages), "someone got two messages"
    return by_recipient


def test_each_participant_is_invited_and_the_organizer_is_not(ada, bob, cy, smtp_server):
    meeting = planned(ada, [bob, cy])

    mails = sent(smtp_server)

    assert set(mails) == {bob.email, cy.email}  # not Ada, the organizer
    mail = mails[bob.email]
    assert mail.subject == "Invitation: Planning & <budget>"
    assert mail.part.get_content_type() == "text/calendar"
    assert mail.part.get_param("method") == "REQUEST"
    assert mail.part.get_filename() == "invite.ics"
    assert mail.method == "REQUEST" and mail.sequence == 0
    assert str(mail.event["uid"]) == uid(meeting)
    assert str(mail.event["status"]) == "CONFIRMED"
    assert mail.event.start == NINE and mail.event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert mail.event.end == NINE + timedelta(hours=1)
    assert mail.calendar.timezones[0].tz_name == "Europe/Berlin"  # the VTIMEZONE is there
    assert str(mail.event["organizer"]) == f"mailto:{ada.email}"
    assert mail.event["organizer"].params["CN"] == "Ada Lovelace"
    assert mail.attendees == {
        ada.email: "ACCEPTED",
        bob.email: "NEEDS-ACTION",
        cy.email: "NEEDS-ACTION",
    }
    assert str(mail.event["location"]) == "Room 4"
    assert str(mail.event["url"]) == "https://meet.example.com/p"
    assert str(mail.event["summary"]) == "Planning & <budget>"
    body = mail.text
    assert "Ada Lovelace invites you to a meeting" in body
    assert "Starts: Tue 1 Dec 08:00 UTC" in body  # the recipient's zone (Bob's: UTC)
    rows = Notification.objects.filter(kind="meeting_invitation")
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert set(rows.values_list("idempotency_key", flat=True)) == {
        f"meeting-invite:{meeting.pk}:{bob.pk}:0",
        f"meeting-invite:{meeting.pk}:{cy.pk}:0",
    }


def test_a_utc_meeting_is_sent_in_utc(ada, bob, smtp_server):
    eight = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    planned(ada, [bob], starts_at=eight, zone="UTC")
    mail = sent(smtp_server)[bob.email]
    assert mail.event.start == eight and "TZID" not in mail.event["dtstart"].params
    assert b"DTSTART:20261201T080000Z" in mail.part.get_payload(decode=True)


def test_a_new_time_is_an_update_at_the_next_sequence_to_everyone(ada, bob, cy, smtp_server):
    meeting = planned(ada, [bob, cy])
    services.meeting_respond(meeting=meeting, user=bob, response="accepted")
    services.meeting_respond(meeting=meeting, user=cy, response="declined")
    sent(smtp_server)

    later = NINE + timedelta(hours=2)
    services.meeting_update(
        meeting=meeting, actor=ada, starts_at=later, ends_at=later + timedelta(hours=1)
    )

    mails = sent(smtp_server)
    assert set(mails) == {bob.email, cy.email}  # who declined hears of the new time too
    mail = mails[cy.email]
    assert mail.subject == "Updated: Planning & <budget>"
    assert mail.method == "REQUEST" and mail.sequence == 1
    assert mail.event.start == later
    # a new time asks everyone again
    assert mail.attendees == {
        ada.email: "ACCEPTED",
        bob.email: "NEEDS-ACTION",
        cy.email: "NEEDS-ACTION",
    }
    assert "changed a meeting you are invited to" in mail.text


def test_added_people_are_invited_and_removed_ones_get_a_cancel_naming_them(
    ada, bob, cy, smtp_server
):
    meeting = planned(ada, [bob])
    sent(smtp_server)

    services.meeting_update(meeting=meeting, actor=ada, participant_emails=[cy.email])

    mails = sent(smtp_server)
    assert set(mails) == {bob.email, cy.email}  # nothing else changed: no one else is told
    invited, removed = mails[cy.email], mails[bob.email]
    assert invited.subject.startswith("Invitation: ")
    assert invited.method == "REQUEST" and invited.sequence == 1
    assert set(invited.attendees) == {ada.email, cy.email}
    assert removed.subject.startswith("Removed from: ")
    assert removed.part.get_param("method") == "CANCEL"
    assert removed.method == "CANCEL" and removed.sequence == 1
    assert str(removed.event["uid"]) == uid(meeting)
    assert set(removed.attendees) == {bob.email}  # RFC 5546 3.2.5: only who is removed
    assert "status" not in removed.event  # the meeting itself goes on


def test_cancelling_tells_every_participant_those_who_declined_too(ada, bob, cy, smtp_server):
    meeting = planned(ada, [bob, cy])
    services.meeting_respond(meeting=meeting, user=cy, response="declined")
    sent(smtp_server)

    services.meeting_cancel(meeting=meeting, actor=ada)

    mails = sent(smtp_server)
    assert set(mails) == {bob.email, cy.email}
    for mail in mails.values():
        assert mail.subject == "Cancelled: Planning & <budget>"
        assert mail.method == "CANCEL" and mail.sequence == 1
        assert mail.part.get_param("method") == "CANCEL"
        assert str(mail.event["status"]) == "CANCELLED"
        assert str(mail.event["uid"]) == uid(meeting)
    assert mails[cy.email].attendees[cy.email] == "DECLINED"


def test_an_operator_s_cancel_is_mailed_too(ada, bob, smtp_server):
    meeting = planned(ada, [bob])
    sent(smtp_server)
    services.meeting_cancel(meeting=meeting, actor=None)
    assert sent(smtp_server)[bob.email].method == "CANCEL"


def test_queueing_again_mails_nobody_twice(ada, bob, cy, smtp_server):
    meeting = planned(ada, [bob, cy])
    # the same change queued again (a retried task, a redelivered message): keyed, skipped
    again = invitations_queue(meeting=meeting, user_ids=[bob.pk, cy.pk, ada.pk], method="REQUEST")
    assert again == 0
    # a change that changes nothing is no new SEQUENCE, so no mail either
    services.meeting_update(meeting=meeting, actor=ada, title="Planning & <budget>")
    assert Notification.objects.filter(kind="meeting_invitation").count() == 2
    assert len(sent(smtp_server)) == 2
    assert sent(smtp_server) == {}


def test_a_late_message_keeps_the_sequence_of_its_change(ada, bob, smtp_server):
    meeting = planned(ada, [bob])
    later = NINE + timedelta(days=1)
    services.meeting_update(
        meeting=meeting, actor=ada, starts_at=later, ends_at=later + timedelta(hours=1)
    )

    notifications_send_due()
    first, second = (Sent(envelope) for envelope in smtp_server.messages)

    # both describe the meeting as it is when sent; each keeps its change's SEQUENCE, so a
    # calendar app that gets the older one last ignores it
    assert (first.sequence, second.sequence) == (0, 1)
    assert first.event.start == second.event.start == later


def test_a_meeting_deleted_before_its_mail_went_out_is_not_sent(ada, bob, smtp_server):
    meeting = planned(ada, [bob])
    Meeting.objects.filter(pk=meeting.pk).delete()
    notifications_send_due()
    assert smtp_server.messages == []
    row = Notification.objects.get(kind="meeting_invitation")
    assert row.status == "failed" and row.last_error == "Not sent: the meeting was deleted"


def test_an_unverified_address_holds_its_invitation(ada):
    unverified = UserFactory(email_verified_at=None)
    planned(ada, [unverified])
    assert Notification.objects.get(kind="meeting_invitation").status == "held"


def test_a_resend_carries_the_attachment_again_unless_the_meeting_is_gone(
    ada, bob, staff_user, smtp_server
):
    meeting = planned(ada, [bob])
    sent(smtp_server)
    row = Notification.objects.get(kind="meeting_invitation")
    # the row keeps its rendered text; the attachment is built at every attempt
    notification_resend(notification=row, actor=staff_user)
    assert sent(smtp_server)[bob.email].sequence == 0
    Meeting.objects.filter(pk=meeting.pk).delete()
    notification_resend(notification=row, actor=staff_user)
    assert sent(smtp_server) == {}
    row.refresh_from_db()
    assert row.status == "failed" and row.last_error == "Not sent: the meeting was deleted"
