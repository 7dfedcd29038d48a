"""Meetings as iCalendar (RFC 5545), with the `icalendar` package: one VEVENT per meeting,
its UID stable and its SEQUENCE the meeting's, so calendar apps update what they hold.

Two uses: the feed (`meetings_ics`, METHOD:PUBLISH, times in UTC) and the iTIP messages
(RFC 5546) mailed to participants (`invitation_ics`: METHOD:REQUEST to invite or update,
METHOD:CANCEL to cancel or to take someone off), times in the meeting's own zone with its
VTIMEZONE, so a calendar app shows and moves the meeting as its organizer meant it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Meeting, Participant

PRODID = "-//taskplatform//meetings//EN"
PARTSTAT: dict[str, str] = {
    Participant.Response.NEEDS_ACTION: "NEEDS-ACTION",
    Participant.Response.ACCEPTED: "ACCEPTED",
    Participant.Response.DECLINED: "DECLINED",
    Participant.Response.TENTATIVE: "TENTATIVE",
}
REQUEST = "REQUEST"
CANCEL = "CANCEL"


def uid(meeting: Meeting) -> str:
    return uid_of(meeting.pk)


def uid_of(meeting_id: int) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "taskplatform"
    return f"meeting-{meeting_id}@{host}"


def meetings_ics(meetings: Iterable[Meeting], *, name: str = "Meetings") -> bytes:
    """A calendar of `meetings` (participants prefetched with their users)."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        calendar.add_component(_event(meeting))
    return calendar.to_ical()


def invitation_ics(
    meeting: Meeting,
    *,
    method: str,
    sequence: int,
    dtstamp: datetime,
    removed_email: str | None = None,
) -> bytes:
    """One iTIP message about `meeting` (participants prefetched with their users).

    REQUEST: the meeting with every participant's answer, CONFIRMED. CANCEL: the whole
    meeting, STATUS:CANCELLED; or, with `removed_email`, only that attendee taken off (RFC
    5546 3.2.5: then the ATTENDEE is the one removed and STATUS is left out, since the
    meeting itself goes on). `sequence` and `dtstamp` are the message's, not the meeting's
    now: they say which change the message is about.
    """
    calendar = _calendar(method)
    event = _event(
        meeting,
        sequence=sequence,
        dtstamp=dtstamp,
        zoned=True,
        status=None if removed_email else ("CANCELLED" if method == CANCEL else "CONFIRMED"),
        only_attendee=removed_email,
    )
    calendar.add_component(event)
    start, end = _local(meeting.starts_at, meeting), _local(meeting.ends_at, meeting)
    # the zone's rules over the years the meeting spans (the default, 1970 to 2038, is ~8 kB)
    calendar.add_missing_timezones(
        first_date=date(start.year, 1, 1), last_date=date(end.year + 1, 1, 1)
    )
    return calendar.to_ical()


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _local(at: datetime, meeting: Meeting) -> datetime:
    try:
        return at.astimezone(ZoneInfo(meeting.timezone))
    except (ZoneInfoNotFoundError, ValueError):  # checked on the way in; never fail a mail
        return at


def _event(
    meeting: Meeting,
    *,
    sequence: int | None = None,
    dtstamp: datetime | None = None,
    zoned: bool = False,
    status: str | None = "",
    only_attendee: str | None = None,
) -> Event:
    """The meeting's VEVENT. Defaults: the feed's (the meeting's SEQUENCE and last change,
    UTC times, STATUS from the meeting, every participant an ATTENDEE)."""
    event = Event()
    event.add("uid", uid(meeting))
    event.add("sequence", meeting.sequence if sequence is None else sequence)
    event.add("dtstamp", dtstamp or meeting.updated_at)
    if zoned:
        event.add("dtstart", _local(meeting.starts_at, meeting))
        event.add("dtend", _local(meeting.ends_at, meeting))
    else:
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    if meeting.description:
        event.add("description", meeting.description)
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.url:
        event.add("url", meeting.url)
    if status == "":
        cancelled = meeting.status == Meeting.Status.CANCELLED
        status = "CANCELLED" if cancelled else "CONFIRMED"
    if status is not None:
        event.add("status", status)
    organizer = vCalAddress(f"mailto:{meeting.organizer.email}")
    if meeting.organizer.full_name:
        organizer.params["cn"] = vText(meeting.organizer.full_name)
    event.add("organizer", organizer, encode=False)
    if only_attendee is not None:
        event.add("attendee", vCalAddress(f"mailto:{only_attendee}"), encode=False)
        return event
    for participant in meeting.participants.all():
        attendee = vCalAddress(f"mailto:{participant.user.email}")
        if participant.user.full_name:
            attendee.params["cn"] = vText(participant.user.full_name)
        attendee.params["partstat"] = vText(PARTSTAT[participant.response])
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    return event
