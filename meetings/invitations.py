"""Invitations, updates and cancellations by email, each carrying the iTIP message (RFC 5546)
a calendar app acts on: `invite.ics`, `text/calendar; method=REQUEST` or `method=CANCEL`.

Who gets what (the organizer never: it is their meeting):
- created: every participant an invitation (REQUEST) at SEQUENCE 0;
- changed (title, time, place… — meetings.services.NOTIFIED_FIELDS): everyone who stays an
  update (REQUEST) at the raised SEQUENCE, whatever they answered, since a new time asks
  them again; added people an invitation; removed people a CANCEL naming only them (the
  meeting goes on without them). A change of the participants alone tells only those added
  and removed;
- cancelled: every participant a CANCEL with STATUS:CANCELLED, those who declined too.

Queued with notifications_queue_bulk, in the service's transaction (the outbox): one
INSERT … SELECT whatever the number of participants, keyed
`meeting-invite:<meeting>:<user>:<sequence>` / `meeting-cancel:<meeting>:<user>:<sequence>`,
so a service run again (a retry, a redelivered task) mails nobody twice for one change.

A row stores only `{meeting_id, method, sequence, update, removed}`; the sender renders the
text and builds the attachment (register_attachments, meetings/apps.py) from the meeting as
it is then, with the stored METHOD and SEQUENCE. So the words and the .ics of one email
always agree, and each message still names the change it is about: a calendar app applies
messages by SEQUENCE, so an older one arriving late (a retry) never undoes a newer one. Not
storing the whole .ics keeps rows small and leaves no copy of a description or address
around after it was changed. A meeting deleted before its mail went out (there is no delete
service; only deleting the organizer's account does it) leaves nothing to describe: the
context loader raises ContextGone and the row is recorded as not sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, JSONField, Prefetch, QuerySet, Value
from django.db.models.functions import Cast, Concat

from notifications.delivery import Attachment
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.rendering import ContextGone, Loaded
from notifications.services import notifications_queue_bulk

from .calendar import CANCEL, REQUEST, invitation_ics
from .models import Meeting, Participant

SUBJECT = "Meeting invitation"  # until the sender renders the row
KEY_PREFIX = {REQUEST: "meeting-invite", CANCEL: "meeting-cancel"}
KIND = {REQUEST: Kind.MEETING_INVITATION, CANCEL: Kind.MEETING_CANCELLED}


def invitations_queue(
    *,
    meeting: Meeting,
    user_ids: Iterable[int] | QuerySet[Any],
    method: str,
    update: bool = False,
    removed: bool = False,
) -> int:
    """Queue `method` (REQUEST or CANCEL) about `meeting`, at its current SEQUENCE, to the
    users `user_ids` but the organizer; returns how many were new."""
    text: CharField[str, str] = CharField()
    stored = {
        "meeting_id": meeting.pk,
        "method": method,
        "sequence": meeting.sequence,
        "update": update,
        "removed": removed,
    }
    ids = user_ids if isinstance(user_ids, QuerySet) else list(user_ids)
    if isinstance(ids, list) and not ids:  # an empty IN () can't be compiled into SQL
        return 0
    rows = (
        get_user_model()
        .objects.filter(pk__in=ids)
        .exclude(pk=meeting.organizer_id)
        .values(
            user_id=F("pk"),
            to_email=F("email"),
            subject=Value(SUBJECT, output_field=text),
            context=Value(stored, output_field=JSONField()),
            idempotency_key=Concat(
                Value(f"{KEY_PREFIX[method]}:{meeting.pk}:"),
                Cast("pk", text),
                Value(f":{meeting.sequence}"),
                output_field=text,
            ),
        )
    )
    return notifications_queue_bulk(kind=KIND[method], rows=rows)


def invitations_after_update(
    *, meeting: Meeting, notified: bool, added: list[int], removed: list[int]
) -> int:
    """What meeting_update tells whom (see the module's docstring); returns how many."""
    queued = 0
    if notified:
        stayed = meeting.participants.exclude(user_id__in=added).values("user_id")
        queued += invitations_queue(meeting=meeting, user_ids=stayed, method=REQUEST, update=True)
    if added:
        queued += invitations_queue(meeting=meeting, user_ids=added, method=REQUEST)
    if removed:
        queued += invitations_queue(meeting=meeting, user_ids=removed, method=CANCEL, removed=True)
    return queued


def invitation_contexts_load(stored: list[dict[str, Any]]) -> list[Loaded]:
    """The template contexts of a batch of invitation rows (one query for their meetings)."""
    ids = {one.get("meeting_id") for one in stored}
    meetings = Meeting.objects.select_related("organizer").in_bulk(
        [pk for pk in ids if isinstance(pk, int)]
    )
    loaded: list[Loaded] = []
    for one in stored:
        meeting = meetings.get(one.get("meeting_id"))
        if meeting is None:
            loaded.append(ContextGone("the meeting was deleted"))
            continue
        loaded.append(
            {
                "meeting": meeting,
                "organizer_email": meeting.organizer.email,
                "organizer_name": meeting.organizer.full_name or meeting.organizer.email,
                "update": bool(one.get("update")),
                "removed": bool(one.get("removed")),
            }
        )
    return loaded


def invitation_attachments(notification: Notification) -> list[Attachment]:
    """`invite.ics`: the meeting as it is now, with the METHOD and SEQUENCE of the change
    the row was queued for."""
    stored = notification.context or {}
    meeting_id = stored.get("meeting_id")
    meeting = (
        Meeting.objects.select_related("organizer")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user"))
        )
        .filter(pk=meeting_id if isinstance(meeting_id, int) else 0)
        .first()
    )
    if meeting is None:
        raise ContextGone("the meeting was deleted")
    method = CANCEL if notification.kind == Kind.MEETING_CANCELLED else REQUEST
    sequence = stored.get("sequence")
    ics = invitation_ics(
        meeting,
        method=method,
        sequence=sequence if isinstance(sequence, int) else meeting.sequence,
        dtstamp=notification.created_at,
        removed_email=notification.to_email if stored.get("removed") else None,
    )
    return [Attachment("invite.ics", ics, f"text/calendar; method={method}")]
