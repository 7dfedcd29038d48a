"""Publishing live events: the one way to write them, and their retention.

Services call `live_publish(...)` inside their own transaction, so the event rows commit
with the change or not at all; once committed they are pushed to the live processes
(live/pushing.py: Redis when REDIS_URL is set, else the live process reads the table).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import pushing
from .models import PUBLIC, LiveEvent

__all__ = [
    "PUBLIC",
    "live_prune",
    "live_publish",
    "live_session_ended",
    "live_together",
    "session_tag",
]

SESSION_ENDED = "session.ended"

# inside `live_together`: the events published so far, written when it ends
_together: ContextVar[list[LiveEvent] | None] = ContextVar("live_together", default=None)


@contextlib.contextmanager
def live_together() -> Iterator[None]:
    """Events published inside are written in one INSERT when the block ends without an
    error (inside the transaction that makes the changes: a worker's message of 20 job runs
    writes its 20 events in one statement), and pushed together once it commits."""
    events: list[LiveEvent] = []
    token = _together.set(events)
    try:
        yield
    finally:
        _together.reset(token)
    _write(events)


def live_publish(
    *,
    type: str,
    object_type: str,
    object_id: int,
    audience: Iterable[int | None],
    data: dict[str, Any] | None = None,
) -> list[LiveEvent]:
    """One event for each of `audience` (user ids; PUBLIC: everyone signed in), written
    now (or at the end of `live_together`) and pushed to clients once the transaction
    commits. Ids repeated or None are ignored; an empty audience writes nothing."""
    now = timezone.now()
    events = [
        LiveEvent(
            created_at=now,
            audience=who,
            type=type,
            object_type=object_type,
            object_id=object_id,
            data=data or {},
        )
        for who in dict.fromkeys(a for a in audience if a is not None)
    ]
    together = _together.get()
    if together is None:
        _write(events)
    else:
        together.extend(events)
    return events


def session_tag(session_key: str) -> str:
    """What names a web session in an event: a digest of its key, never the key."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def live_session_ended(*, user_id: int, session_key: str) -> None:
    """Tell the user's live processes a web session ended (signed out): the connection it
    signed in closes (4401), so a tab left open stops hearing of the account."""
    live_publish(
        type=SESSION_ENDED,
        object_type="session",
        object_id=0,
        audience=[user_id],
        data={"session": session_tag(session_key)},
    )


def _write(events: list[LiveEvent]) -> None:
    if not events:
        return
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        LiveEvent.objects.bulk_create(events)
    transaction.on_commit(lambda: pushing.push(events))


def live_prune(*, older_than: timedelta | None = None) -> int:
    """Delete events older than LIVE_RETENTION_HOURS (a client away longer is told to
    reload: `resync`). Returns how many rows went; in batches, so no long lock."""
    if older_than is None:
        older_than = timedelta(hours=settings.LIVE_RETENTION_HOURS)
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        # by id: events are written in id order, so "old" is a prefix of the table
        old = LiveEvent.objects.filter(created_at__lt=cutoff).order_by("id")
        batch_end = list(old.values_list("id", flat=True)[9_999:10_000])
        if not batch_end:
            count, _ = LiveEvent.objects.filter(created_at__lt=cutoff).delete()
            return deleted + count
        count, _ = old.filter(id__lte=batch_end[0]).delete()
        deleted += count
