"""The meetings pages' forms: the shape of what a page posts (meetings.services decides).

A time is typed as a wall-clock time (datetime-local) in the zone chosen beside it; the form
joins the two into an aware datetime, so the service gets what the API's offsets give it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from meetings.models import Meeting, Participant
from meetings.services import MAX_PARTICIPANTS, MAX_REMINDER_MINUTES, MAX_REMINDERS
from taskplatform.timezones import CHOICES as ZONE_CHOICES
from taskplatform.timezones import zone_check
from taskplatform.validators import validate_one_line

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
# commas, semicolons, spaces and new lines all separate addresses
SEPARATORS = re.compile(r"[\s,;]+")
ANSWERS = [
    (Participant.Response.ACCEPTED, "Accept"),
    (Participant.Response.TENTATIVE, "Maybe"),
    (Participant.Response.DECLINED, "Decline"),
]


class LocalDateTimeField(forms.Field):
    """A wall-clock time without a zone (the form's `timezone` field gives it one)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                "A date and time, like 2026-12-01T10:00.", code="invalid"
            ) from None
        if parsed.tzinfo is not None:
            raise ValidationError("Without an offset: choose the time zone below.")
        return parsed


class MinutesField(forms.CharField):
    """Minutes before the start, as "15, 60": a list of whole numbers."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value) or ""
        words = [w for w in SEPARATORS.split(text) if w]
        message = (
            f"At most {MAX_REMINDERS} whole numbers of minutes, 0 to {MAX_REMINDER_MINUTES}, "
            "separated by commas."
        )
        if len(words) > MAX_REMINDERS or not all(w.isdigit() and len(w) < 7 for w in words):
            raise ValidationError(message, code="invalid")
        minutes = [int(w) for w in words]
        if any(m > MAX_REMINDER_MINUTES for m in minutes):
            raise ValidationError(message, code="invalid")
        return minutes

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(m) for m in value)
        return value


class EmailsField(forms.CharField):
    """Addresses, one a line or separated by commas; each checked, each once."""

    widget = forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        emails = list(dict.fromkeys(w.lower() for w in SEPARATORS.split(text) if w))
        if len(emails) > MAX_PARTICIPANTS:
            raise ValidationError(f"At most {MAX_PARTICIPANTS} participants.")
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError([f"Not an email address: {email}" for email in bad[:10]])
        return emails

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=200, validators=[validate_one_line])
    description = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    type = forms.ChoiceField(choices=Meeting.Type.choices, initial=Meeting.Type.VIRTUAL)
    location = forms.CharField(
        max_length=300,
        required=False,
        help_text="Where people meet: needed for in-person and hybrid meetings.",
    )
    url = forms.CharField(
        label="Link",
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text="The video call's address: needed for virtual and hybrid meetings.",
    )
    starts_at = LocalDateTimeField(label="Starts")
    ends_at = LocalDateTimeField(label="Ends")
    timezone = forms.ChoiceField(
        label="Time zone", choices=ZONE_CHOICES, help_text="The zone the times above are in."
    )
    participant_emails = EmailsField(
        label="Participants",
        required=False,
        help_text="Their account emails, one a line or separated by commas.",
    )
    reminder_minutes = MinutesField(
        label="Reminders (minutes before)",
        required=False,
        initial="15",
        help_text=f'e.g. "60, 15": up to {MAX_REMINDERS}; empty for none.',
    )

    def __init__(self, *args: Any, zone: str = "UTC", editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].initial = zone
        if editing:
            # each participant's reminders are their own (set with their answer), as in the API
            del self.fields["reminder_minutes"]

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict[str, Any]:
        """A meeting's values as the form shows them: its times in its own zone, the
        participants other than the organizer."""
        zone = ZoneInfo(meeting.timezone)
        return {
            "title": meeting.title,
            "description": meeting.description,
            "type": meeting.type,
            "location": meeting.location,
            "url": meeting.url,
            "starts_at": meeting.starts_at.astimezone(zone).replace(tzinfo=None),
            "ends_at": meeting.ends_at.astimezone(zone).replace(tzinfo=None),
            "timezone": meeting.timezone,
            "participant_emails": [
                p.user.email
                for p in meeting.participants.all()
                if p.user_id != meeting.organizer_id
            ],
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("timezone")
        if name:
            zone = zone_check(name)
            for field in ("starts_at", "ends_at"):
                if isinstance(data.get(field), datetime):
                    data[field] = data[field].replace(tzinfo=zone)
        return data


class RespondForm(forms.Form):
    response = forms.ChoiceField(choices=ANSWERS)
    reminder_minutes = MinutesField(
        label="Remind me (minutes before)",
        required=False,
        help_text='e.g. "60, 15"; empty for no reminders.',
    )
