"""Operators: list_meetings and cancel_meeting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from meetings import services

pytestmark = pytest.mark.django_db


def planned(organizer, emails=(), title="Planning"):
    starts = timezone.now() + timedelta(days=1)
    return services.meeting_create(
        organizer=organizer,
        title=title,
        type="virtual",
        url="https://meet.example.com/p",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        participant_emails=emails,
    )


def test_list_meetings_all_or_one_user_s(user, other_user, capsys):
    planned(user, [other_user.email])
    planned(other_user, title="Other")
    call_command("list_meetings")
    out = capsys.readouterr().out
    assert "Planning" in out and "Other" in out and "2 of 2 meeting(s)" in out
    call_command("list_meetings", "--user", user.email, "--status", "scheduled")
    out = capsys.readouterr().out
    assert "Planning" in out and "Other" not in out and "1 of 1" in out
    with pytest.raises(CommandError):
        call_command("list_meetings", "--user", "nobody@example.com")


def test_cancel_meeting_as_an_operator(user, capsys):
    meeting = planned(user)
    call_command("cancel_meeting", str(meeting.pk))
    assert "cancelled" in capsys.readouterr().out
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    event = AuditEvent.objects.get(action="meeting.cancelled")
    assert event.actor is None  # an operator, not the organizer
    with pytest.raises(CommandError, match="cancelled"):
        call_command("cancel_meeting", str(meeting.pk))
    with pytest.raises(CommandError, match="No meeting"):
        call_command("cancel_meeting", "999999")
