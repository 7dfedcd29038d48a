"""Meeting reads: what a user may see, what is coming, who is double-booked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Meeting, Participant

if TYPE_CHECKING:
    from accounts.models import User


def meeting_list(*, user: User) -> QuerySet[Meeting]:
    """Meetings the user organizes or is invited to."""
    invited = Participant.objects.filter(meeting=OuterRef("pk"), user=user)
    return Meeting.objects.filter(Q(organizer=user) | Exists(invited))


def meeting_digest_list(*, person: User | int | OuterRef) -> QuerySet[Meeting]:
    """The scheduled meetings a daily digest tells `person` about: the ones they organize or
    take part in without having declined (`person` may be an OuterRef to a user id, for a
    planner's EXISTS)."""
    # one level further down, the same user is the outer query's outer reference
    user = OuterRef(person) if isinstance(person, OuterRef) else person
    attending = Participant.objects.filter(Q(user=user), meeting=OuterRef("pk")).exclude(
        response=Participant.Response.DECLINED
    )
    return Meeting.objects.filter(
        Q(organizer=person) | Exists(attending), status=Meeting.Status.SCHEDULED
    )


def meetings_upcoming(*, user: User, now: datetime) -> QuerySet[Meeting]:
    """The user's scheduled meetings not over yet, soonest first (declined ones left out)."""
    declined = Participant.objects.filter(
        meeting=OuterRef("pk"), user=user, response=Participant.Response.DECLINED
    )
    return (
        meeting_list(user=user)
        .filter(status=Meeting.Status.SCHEDULED, ends_at__gt=now)
        .exclude(Exists(declined))
        .order_by("starts_at", "id")
    )


def meeting_conflicts(*, meeting: Meeting) -> dict[int, list[Meeting]]:
    """For each participant who hasn't declined: their other scheduled meetings (not
    declined either) that overlap this one, by user id. Empty when nobody is double-booked."""
    people = list(
        meeting.participants.exclude(response=Participant.Response.DECLINED).values_list(
            "user_id", flat=True
        )
    )
    overlapping = (
        Participant.objects.filter(
            user_id__in=people,
            meeting__status=Meeting.Status.SCHEDULED,
            meeting__starts_at__lt=meeting.ends_at,
            meeting__ends_at__gt=meeting.starts_at,
        )
        .exclude(meeting=meeting)
        .exclude(response=Participant.Response.DECLINED)
        .select_related("meeting")
        .order_by("meeting__starts_at", "meeting_id")
    )
    conflicts: dict[int, list[Meeting]] = {}
    for participant in overlapping:
        conflicts.setdefault(participant.user_id, []).append(participant.meeting)
    return conflicts


def meeting_conflicts_seen_by(*, meeting: Meeting, user: User) -> dict[int, list[Meeting]]:
    """`meeting_conflicts` as `user` may be told them: per double-booked participant, only
    the overlapping meetings `user` organizes or is invited to (another's other meetings are
    theirs); a participant whose every clash is hidden keeps an empty list (busy, no more)."""
    conflicts = meeting_conflicts(meeting=meeting)
    others = {m.pk for found in conflicts.values() for m in found}
    visible = set(meeting_list(user=user).filter(pk__in=others).values_list("pk", flat=True))
    return {person: [m for m in found if m.pk in visible] for person, found in conflicts.items()}


FEED_PAST = timedelta(days=30)


def meetings_feed(*, user: User, now: datetime) -> QuerySet[Meeting]:
    """What the user's calendar feed holds: their meetings from 30 days ago on, cancelled ones
    included (marked so: calendar apps then remove them)."""
    return (
        meeting_list(user=user)
        .filter(ends_at__gt=now - FEED_PAST)
        .select_related("organizer")
        .prefetch_related(Prefetch("participants", Participant.objects.select_related("user")))
        .order_by("starts_at", "id")
    )
