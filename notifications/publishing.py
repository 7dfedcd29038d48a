"""Handing queued notifications to the senders: the publisher, the sweeper, the sender message.

The Notification table is the outbox, and it keeps the time: a queued row is due at
`next_attempt_at` (now, or after a retry's back-off) and `enqueued_at` marks that a sender
message covering it was handed to the broker. The publisher (beat, every second; and right
after commit for rows just written) marks due unmarked rows and sends one sender message per
CLAIM_BATCH of them, naming the first row of each batch; a sender claims that row and every
other due one, batch after batch. What the broker refuses is unmarked for the next tick.
Nobody publishes with a countdown: a row that must wait goes back to `queued` unmarked,
with a later `next_attempt_at`.

Like job runs (jobs/dispatch.py), and through the same helper (taskplatform.outbox).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taskplatform import outbox

from .models import Notification

log = logging.getLogger(__name__)

Status = Notification.Status
# rows one sender claims at a time (and one message stands for)
CLAIM_BATCH = 100
# rows one publisher call hands over at most (a tick a second: 50 messages)
PUBLISH_LIMIT = 5000
# sender messages that may wait in the broker before the periodic publisher holds back: the
# senders go on through every due row anyway (marked or not), so more messages only make
# work — in a backlog of a million digests the sweeper re-published ~30,000 rows a minute,
# and each message found its row long taken
SENDERS_WAITING_MAX = 50
SENDER = "notifications.send_notification"


# inside `publishing_together`: the rows written meanwhile, published when it ends
_together: ContextVar[list[int] | None] = ContextVar("notifications_together", default=None)


@contextlib.contextmanager
def publishing_together() -> Iterator[None]:
    """Rows written inside are handed to the senders together when the block ends — one
    publish for a worker's whole message of job runs — instead of one publish each."""
    written: list[int] = []
    token = _together.set(written)
    try:
        yield
    finally:
        _together.reset(token)
        if written:
            notifications_publish_due(ids=written)


def written_publish(pk: int) -> None:
    """A queued row was just committed: publish it now, or with the others at the end of
    `publishing_together`."""
    together = _together.get()
    if together is None:
        notifications_publish_due(ids=[pk])
    else:
        together.append(pk)


def sender_publish(*, first_id: int | None) -> bool:
    """One sender message: it claims row `first_id` (if still queued), then every due row.
    With no row named, it only sends what is due."""
    return outbox.publish(SENDER, (first_id,), queue="notifications")


def notifications_publish_due(
    *, ids: Sequence[int] | None = None, now: datetime | None = None, limit: int = PUBLISH_LIMIT
) -> int:
    """Publish sender messages for queued rows due at `now` that none covers yet (only rows
    `ids`, when given: a writer publishing what it just wrote). Returns how many rows the
    broker took.

    Rows are locked SKIP LOCKED and marked in one short transaction, so publishers running at
    once (beat's tick, a writer's after-commit) never publish the same row twice. The
    periodic publisher (no `ids`) publishes nothing while SENDERS_WAITING_MAX sender
    messages already wait in the broker.
    """
    now = now or timezone.now()
    if ids is None:
        waiting = outbox.waiting("notifications")
        if waiting is not None and waiting >= SENDERS_WAITING_MAX:
            return 0  # the senders have plenty; they find these rows without a message
    with transaction.atomic():
        locked = Notification.objects.select_for_update(skip_locked=True)
        if ids is None:
            due = locked.filter(
                status=Status.QUEUED, enqueued_at__isnull=True, next_attempt_at__lte=now
            ).order_by("next_attempt_at", "id")
            marked = list(due.values_list("pk", flat=True)[:limit])
        else:
            # a writer's own rows, looked up by primary key alone and checked here: after a
            # large bulk the queue's indexes hold many dead entries, and the planner must not
            # be given the choice of walking them for one row
            rows = locked.filter(pk__in=ids[:limit]).order_by("id")
            marked = [
                pk
                for pk, status, enqueued_at, due_at in rows.values_list(
                    "pk", "status", "enqueued_at", "next_attempt_at"
                )
                if status == Status.QUEUED and enqueued_at is None and due_at <= now
            ]
        if not marked:
            return 0
        # the real clock, not `now`: the sweeper measures from here how long a message is out
        Notification.objects.filter(pk__in=marked).update(enqueued_at=timezone.now())
    # one message per batch, naming its first row; what the broker refuses is unmarked
    for start in range(0, len(marked), CLAIM_BATCH):
        if not sender_publish(first_id=marked[start]):
            Notification.objects.filter(pk__in=marked[start:], status=Status.QUEUED).update(
                enqueued_at=None
            )
            return start
    return len(marked)


def notifications_requeue_stuck(*, now: datetime | None = None) -> dict[str, int]:
    """The sweeper (beat, every minute): recover what a lost worker or a lost message left.

    Rows `sending` past NOTIFICATIONS_SENDING_TIMEOUT_SECONDS belong to a sender that died
    (a message redelivered after a kill takes its rows back sooner): they are queued again.
    Rows marked enqueued longer than NOTIFICATIONS_REQUEUE_AFTER_SECONDS ago and still queued
    had their message lost (or their batch's sender stopped early): they are unmarked. Then
    everything due is published.
    """
    now = now or timezone.now()
    freed = Notification.objects.filter(
        status=Status.SENDING,
        updated_at__lt=now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS),
    ).update(status=Status.QUEUED, enqueued_at=None, next_attempt_at=now, updated_at=now)
    lost = Notification.objects.filter(
        status=Status.QUEUED,
        enqueued_at__lt=now - timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS),
    ).update(enqueued_at=None)
    if freed or lost:
        log.warning("notifications: %s claims of dead senders freed, %s lost messages", freed, lost)
    return {"freed": freed, "resent": lost, "published": notifications_publish_due(now=now)}
