"""Meetings as iCalendar (RFC 5545), with the `icalendar` package: one VEVENT per meeting,
its UID stable and its SEQUENCE the meeting's, so calendar apps update what they hold."""

from __future__ import annotations

from collections.abc import Iterable

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


def uid(meeting: Meeting) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "taskplatform"
    return f"meeting-{meeting.pk}@{host}"


def meetings_ics(meetings: Iterable[Meeting], *, name: str = "Meetings") -> bytes:
    """A calendar of `meetings` (participants prefetched with their users)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        calendar.add_component(_event(meeting))
    return calendar.to_ical()


def _event(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    if meeting.description:
        event.add("description", meeting.description)
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.url:
        event.add("url", meeting.url)
    cancelled = meeting.status == Meeting.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{meeting.organizer.email}")
    event.add("organizer", organizer)
    for participant in meeting.participants.all():
        attendee = vCalAddress(f"mailto:{participant.user.email}")
        attendee.params["partstat"] = vText(PARTSTAT[participant.response])
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    return event
