"""Meeting use cases: the organizer creates, changes and cancels; participants answer.

Every change a participant must hear about raises the meeting's `sequence` (iCalendar's
SEQUENCE) and mails them an update; a new time asks everyone again. Invitations, updates and
cancellations are queued in the same transaction (meetings/invitations.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from audit.services import audit_record
from notifications.kinds import Kind
from notifications.services import notification_create
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from .calendar import CANCEL, REQUEST
from .invitations import invitations_after_update, invitations_queue
from .live_events import meeting_announce
from .models import FeedToken, Meeting, Participant
from .reminders import reminders_plan

if TYPE_CHECKING:
    from accounts.models import User

MAX_DURATION = timedelta(days=7)
MAX_PARTICIPANTS = 200
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 7 * 24 * 60
DEFAULT_REMINDERS = (15,)
# what a participant is told about again when it changes
NOTIFIED_FIELDS = ("title", "description", "type", "location", "url", "starts_at", "ends_at")
TIME_FIELDS = ("starts_at", "ends_at")


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        "The meeting is not valid: see details.", code="validation_error", details=errors
    )


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The meeting's fields, checked together; ApplicationError lists every problem."""
    errors: dict[str, list[str]] = {}
    title = str(values.get("title") or "").strip()
    if not title:
        errors["title"] = ["A meeting needs a title."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    values["title"] = title
    if values.get("type") not in Meeting.Type.values:
        errors["type"] = [f"One of: {', '.join(Meeting.Type.values)}."]
    location, url = values.get("location", ""), values.get("url", "")
    if values.get("type") in (Meeting.Type.IN_PERSON, Meeting.Type.HYBRID) and not location:
        errors["location"] = ["An in-person or hybrid meeting needs a location."]
    if values.get("type") in (Meeting.Type.VIRTUAL, Meeting.Type.HYBRID) and not url:
        errors["url"] = ["A virtual or hybrid meeting needs a URL."]
    if url and not _is_url(url):
        errors["url"] = ["An http or https address, at most 500 characters."]
    if len(location) > 300:
        errors["location"] = ["At most 300 characters."]
    if values.get("type") == Meeting.Type.IN_PERSON and url:
        errors["url"] = ["An in-person meeting has no URL: make it hybrid."]
    if values.get("type") == Meeting.Type.VIRTUAL and location:
        errors["location"] = ["A virtual meeting has no location: make it hybrid."]
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = ["A time with its offset."]
    elif not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = ["A time with its offset."]
    elif ends_at <= starts_at:
        errors["ends_at"] = ["The meeting must end after it starts."]
    elif ends_at - starts_at > MAX_DURATION:
        errors["ends_at"] = ["A meeting lasts at most 7 days."]
    try:
        zone_check(str(values.get("timezone") or ""))
    except ValueError as exc:
        errors["timezone"] = [str(exc)]
    if errors:
        raise _invalid(errors)
    return values


def _is_url(value: str) -> bool:
    if len(value) > 500:
        return False
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def _participants(emails: Iterable[str]) -> list[User]:
    """Active users for `emails` (case-insensitive), in the order given, each once."""
    wanted = list(dict.fromkeys(str(e).strip().lower() for e in emails))
    if len(wanted) > MAX_PARTICIPANTS:
        raise _invalid({"participant_emails": [f"At most {MAX_PARTICIPANTS} participants."]})
    users = {
        u.email.lower(): u
        for u in get_user_model().objects.filter(email__in=wanted, is_active=True)
    }
    unknown = [email for email in wanted if email not in users]
    if unknown:
        raise _invalid(
            {"participant_emails": [f"No active user with the address {e}." for e in unknown]}
        )
    return [users[email] for email in wanted]


def reminders_checked(minutes: Iterable[Any]) -> list[int]:
    """Minutes before the start, each 0 to 7 days, at most 5, sorted and once each."""
    values = list(minutes)
    if len(values) > MAX_REMINDERS or not all(
        isinstance(m, int) and not isinstance(m, bool) and 0 <= m <= MAX_REMINDER_MINUTES
        for m in values
    ):
        raise _invalid(
            {
                "reminder_minutes": [
                    f"At most {MAX_REMINDERS} whole numbers of minutes, 0 to "
                    f"{MAX_REMINDER_MINUTES}."
                ]
            }
        )
    return sorted(set(values), reverse=True)


@transaction.atomic
def meeting_create(
    *,
    organizer: User,
    title: str,
    type: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str = "UTC",
    description: str = "",
    location: str = "",
    url: str = "",
    participant_emails: Iterable[str] = (),
    reminder_minutes: Iterable[int] = DEFAULT_REMINDERS,
) -> Meeting:
    """A scheduled meeting; the organizer takes part (accepted), the others are asked."""
    values = _checked(
        {
            "title": title,
            "type": type,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "timezone": timezone,
            "description": description,
            "location": location,
            "url": url,
        }
    )
    reminders = reminders_checked(reminder_minutes)
    others = [u for u in _participants(participant_emails) if u.pk != organizer.pk]
    meeting = Meeting.objects.create(organizer=organizer, **values)
    Participant.objects.bulk_create(
        [
            Participant(
                meeting=meeting,
                user=organizer,
                response=Participant.Response.ACCEPTED,
                reminder_minutes=reminders,
            ),
            *(Participant(meeting=meeting, user=u, reminder_minutes=reminders) for u in others),
        ]
    )
    reminders_plan(meeting=meeting)
    invitations_queue(meeting=meeting, user_ids=[u.pk for u in others], method=REQUEST)
    audit_record(
        actor=organizer,
        action="meeting.created",
        target=meeting,
        details={"participants": [u.pk for u in others]},
    )
    meeting_announce(meeting, "meeting.created")
    return meeting


def _organizer_only(meeting: Meeting, actor: User | None) -> None:
    """The organizer, or an operator (`actor` None: the CLI)."""
    if actor is not None and meeting.organizer_id != actor.pk:
        raise ApplicationError(
            "Only the organizer may change this meeting.", code="permission_denied"
        )
    if meeting.status == Meeting.Status.CANCELLED:
        raise ApplicationError("This meeting is cancelled.", code="conflict")


@transaction.atomic
def meeting_update(
    *,
    meeting: Meeting,
    actor: User,
    participant_emails: Iterable[str] | None = None,
    **changes: Any,
) -> Meeting:
    """Change fields and/or replace the participants (answers of those who stay are kept; a
    new time asks everyone but the organizer again)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _organizer_only(meeting, actor)
    unknown = set(changes) - {*NOTIFIED_FIELDS, "timezone"}
    if unknown:
        raise _invalid({name: ["Not a field of a meeting."] for name in sorted(unknown)})
    current = {name: getattr(meeting, name) for name in (*NOTIFIED_FIELDS, "timezone")}
    values = _checked({**current, **changes})
    changed = [name for name in current if values[name] != current[name]]
    for name in changed:
        setattr(meeting, name, values[name])
    added: list[int] = []
    removed: list[int] = []
    if participant_emails is not None:
        wanted = {u.pk: u for u in _participants(participant_emails) if u.pk != actor.pk}
        present = set(meeting.participants.exclude(user=actor).values_list("user_id", flat=True))
        removed = sorted(present - set(wanted))
        added = [pk for pk in wanted if pk not in present]
        meeting.participants.filter(user_id__in=removed).delete()
        Participant.objects.bulk_create(
            Participant(meeting=meeting, user=wanted[pk], reminder_minutes=list(DEFAULT_REMINDERS))
            for pk in added
        )
    if not (changed or added or removed):
        return meeting
    notified = any(name in NOTIFIED_FIELDS for name in changed)
    if notified or added or removed:
        meeting.sequence += 1
    if any(name in TIME_FIELDS for name in changed):
        meeting.participants.exclude(user=actor).update(response=Participant.Response.NEEDS_ACTION)
    meeting.save()
    reminders_plan(meeting=meeting)
    invitations_after_update(meeting=meeting, notified=notified, added=added, removed=removed)
    audit_record(
        actor=actor,
        action="meeting.updated",
        target=meeting,
        details={"changed": changed, "added": added, "removed": removed},
    )
    meeting_announce(meeting, "meeting.updated", also=removed)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, actor: User | None) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _organizer_only(meeting, actor)
    meeting.status = Meeting.Status.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    reminders_plan(meeting=meeting)
    # everyone, those who declined too: their calendar may still hold it
    invitations_queue(
        meeting=meeting, user_ids=meeting.participants.values("user_id"), method=CANCEL
    )
    audit_record(actor=actor, action="meeting.cancelled", target=meeting)
    meeting_announce(meeting, "meeting.cancelled")
    return meeting


@transaction.atomic
def meeting_respond(
    *,
    meeting: Meeting,
    user: User,
    response: str,
    reminder_minutes: Iterable[int] | None = None,
) -> Participant:
    """A participant's answer (accepted, declined, tentative), and optionally when they
    want to be reminded."""
    if response not in Participant.Response.values or response == Participant.Response.NEEDS_ACTION:
        raise _invalid({"response": ["One of: accepted, declined, tentative."]})
    participant = Participant.objects.select_for_update().filter(meeting=meeting, user=user).first()
    if participant is None:
        raise ApplicationError("You are not invited to this meeting.", code="not_found")
    if meeting.status == Meeting.Status.CANCELLED:
        raise ApplicationError("This meeting is cancelled.", code="conflict")
    participant.response = response
    fields = ["response", "updated_at"]
    if reminder_minutes is not None:
        participant.reminder_minutes = reminders_checked(reminder_minutes)
        fields.append("reminder_minutes")
    participant.save(update_fields=fields)
    reminders_plan(meeting=meeting)
    audit_record(
        actor=user, action="meeting.responded", target=meeting, details={"response": response}
    )
    meeting_announce(meeting, "meeting.responded")
    return participant


def feed_token(*, user: User) -> FeedToken:
    """The user's calendar feed secret, made on first use."""
    token, _ = FeedToken.objects.get_or_create(
        user=user, defaults={"secret": secrets.token_urlsafe(32)}
    )
    return token


@transaction.atomic
def feed_token_rotate(*, user: User) -> FeedToken:
    """A new secret: the old feed address stops working at once."""
    token = feed_token(user=user)
    token.secret = secrets.token_urlsafe(32)
    token.save(update_fields=["secret", "updated_at"])
    audit_record(actor=user, action="meeting.feed_rotated", target=token)
    return token


REMIND_WINDOW_SECONDS = 600


@transaction.atomic
def meeting_remind(*, meeting: Meeting, actor: User, now: datetime) -> int:
    """The organizer reminds everyone who hasn't declined, now, by email; returns how many
    were queued. Asking again within 10 minutes mails nobody twice."""
    _organizer_only(meeting, actor)
    if meeting.ends_at <= now:
        raise ApplicationError("This meeting is over.", code="conflict")
    window = int(now.timestamp()) // REMIND_WINDOW_SECONDS
    people = (
        meeting.participants.exclude(user=actor)
        .exclude(response=Participant.Response.DECLINED)
        .select_related("user")
    )
    queued = 0
    for participant in people:
        notification = notification_create(
            user=participant.user,
            kind=Kind.MEETING_REMINDER,
            context={"meeting": meeting, "organizer_email": meeting.organizer.email},
            idempotency_key=f"meeting:{meeting.pk}:remind:{window}:{participant.user_id}",
        )
        queued += notification is not None
    audit_record(actor=actor, action="meeting.reminded", target=meeting, details={"queued": queued})
    return queued
