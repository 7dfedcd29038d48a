"""What live clients are told about a meeting (live.services): its organizer and every
participant, and anyone just taken off it."""

from __future__ import annotations

from collections.abc import Iterable

from live.services import live_publish

from .models import Meeting


def meeting_announce(meeting: Meeting, type: str, *, also: Iterable[int] = ()) -> None:
    """Publish `type` (meeting.created / .updated / .cancelled / .responded) inside the
    change's transaction."""
    people = list(meeting.participants.values_list("user_id", flat=True))
    live_publish(
        type=type,
        object_type="meeting",
        object_id=meeting.pk,
        audience=[meeting.organizer_id, *people, *also],
        data={
            "id": meeting.pk,
            "title": meeting.title,
            "status": meeting.status,
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "sequence": meeting.sequence,
        },
    )
