"""Sending queued notifications: claim a batch, deliver it, record each outcome.

A sender (the `notifications.send_notification` task) claims the row its message names and
every other due row, CLAIM_BATCH at a time, by moving them to `sending` (a conditional
UPDATE): however many messages arrive for a row, it is sent once. A row that must wait (a
transient error, an unreachable server) goes back to `queued`, unmarked, with a later
`next_attempt_at`; the publisher hands it to a sender when that time comes.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Field, Q, Value
from django.db.models.functions import MD5, Cast, Concat, Greatest, Left
from django.utils import timezone

from live.services import live_publish
from taskplatform import counters, liveness, outbox

from . import delivery
from .models import Notification
from .publishing import CLAIM_BATCH, sender_publish
from .rendering import ContextGone, Loaded, load_contexts, render

log = logging.getLogger(__name__)

Status = Notification.Status
NOTHING = {"sent": 0, "retrying": 0, "failed": 0}


def notifications_claim(
    *, first_id: int | None = None, limit: int = CLAIM_BATCH, claimed_by: str = ""
) -> list[Notification]:
    """Claim up to `limit` due queued rows (the given one first) by moving them to `sending`.

    Rows another worker holds are skipped (SKIP LOCKED); a row already claimed, sent or
    failed is never claimed again, so a redelivered message does nothing. `claimed_by` (the
    Celery message's id) is kept on the rows for `notifications_take_over`.
    """
    now = timezone.now()
    with transaction.atomic():
        queued = Notification.objects.select_for_update(skip_locked=True).filter(
            status=Status.QUEUED
        )
        ids: list[int] = []
        if first_id is not None:
            ids = list(queued.filter(pk=first_id).values_list("pk", flat=True))
            if not ids:
                # already taken by another batch (or a redelivery): nothing to do here
                return []
        if limit > len(ids):
            ids += list(
                queued.filter(next_attempt_at__lte=now)
                .exclude(pk__in=ids)
                .order_by("next_attempt_at", "id")
                .values_list("pk", flat=True)[: limit - len(ids)]
            )
        if not ids:
            return []
        Notification.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            updated_at=now,
            enqueued_at=None,  # meaningful only while queued
            claimed_by=claimed_by,
            # the Message-ID this attempt is sent with: known before sending, so a batch
            # is recorded as sent in one UPDATE (providers with ids of their own overwrite it)
            # (a random part per message keeps it unique across databases and resets, and
            # unguessable: a recipient can't derive another message's id from their own —
            # the MD5 of this claim's secret and the row's id: PostgreSQL has it built in)
            provider_message_id=Concat(
                Value("<notification."),
                Cast("id", CharField()),
                Value("."),
                Cast(F("attempts") + 1, CharField()),
                Value("."),
                Left(MD5(Concat(Value(secrets.token_hex(16)), Cast("id", CharField()))), 24),
                Value(f"@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"),
            ),
        )
    return list(
        Notification.objects.filter(pk__in=ids, status=Status.SENDING)
        .select_related("user")
        .order_by("id")
    )


def notifications_deliver(notifications: list[Notification]) -> dict[str, int]:
    """Send claimed rows over one reused connection and record each outcome as it happens.

    Each outcome commits on its own, so a worker killed mid-batch leaves every message it
    sent recorded as sent: only the one in flight can go out twice. When the server can't be
    reached at all, the rest of the batch goes back to the queue without spending attempts.
    """
    outcome = dict(NOTHING)
    # rows queued in bulk are rendered here, their contexts loaded for the whole batch; what
    # each said is stored with its outcome (one UPDATE a message), or rendered afresh at its
    # next attempt
    contexts = _contexts_load([n for n in notifications if not n.body_text])
    for index, notification in enumerate(notifications):
        rendered: dict[str, str] = {}
        try:
            if notification.pk in contexts:
                rendered = _render_deferred(notification, contexts[notification.pk])
            provider_id = delivery.send(delivery.build_message(notification))
        except ContextGone as gone:
            _finish(notification, Status.FAILED, last_error=f"Not sent: {gone}")
            counters.notifications_counted(kind=notification.kind, outcome="failed")
            outcome["failed"] += 1
            continue
        except SoftTimeLimitExceeded:  # out of time: the rest goes back now, attempts kept
            _release(notifications[index:], "The sender ran out of time.", delay=0)
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.is_unreachable(exc):
                waiting = _release(notifications[index:], reason)
                outcome["retrying"] += waiting
                outcome["failed"] += len(notifications) - index - waiting
                break
            if delivery.is_transient(exc) and (
                notification.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS
            ):
                _retry_later(notification, reason, _backoff(notification.attempts))
                counters.notifications_counted(kind=notification.kind, outcome="retrying")
                outcome["retrying"] += 1
            else:
                _finish(notification, Status.FAILED, last_error=reason, **rendered)
                log.error("notification %s failed: %s", notification.pk, reason)
                counters.notifications_counted(kind=notification.kind, outcome="failed")
                outcome["failed"] += 1
            continue
        sent_at = timezone.now()
        _finish(
            notification,
            Status.SENT,
            sent_at=sent_at,
            last_error="",
            **rendered,
            **(
                {"provider_message_id": provider_id}
                if provider_id != notification.provider_message_id
                else {}
            ),
        )
        counters.notifications_counted(kind=notification.kind, outcome="sent")
        outcome["sent"] += 1
    return outcome


def notifications_send_due(*, first_id: int | None = None, message_id: str = "") -> dict[str, int]:
    """Claim and deliver batches (the given row first) until nothing is due.

    `message_id` is the Celery message's id. The sender holds a lock named after it while it
    sends (taskplatform.liveness): the same message delivered again with that lock free means
    the sender that had it died, and its unsent rows are taken back at once; with the lock
    held, a live sender has them, and this delivery does nothing.
    """
    if not message_id:
        return _send_due(first_id, "")
    if first_id is not None and not _has_work(first_id, message_id):
        return dict(NOTHING)
    with liveness.holding(f"notifications.send:{message_id}") as alone:
        if not alone:
            return dict(NOTHING)
        notifications_take_over(claimed_by=message_id)
        return _send_due(first_id, message_id)


def _has_work(first_id: int, message_id: str) -> bool:
    """A message names the first row of a batch; most of them find it already sent by a
    sender that claimed the whole batch. One indexed look-up says so before any lock: its
    row still queued, or rows this message claimed before its worker died."""
    return Notification.objects.filter(
        Q(pk=first_id, status=Status.QUEUED) | Q(status=Status.SENDING, claimed_by=message_id)
    ).exists()


def _send_due(first_id: int | None, message_id: str) -> dict[str, int]:
    """Batch after batch for a slice of time (NOTIFICATIONS_SENDER_SLICE_SECONDS); then a
    fresh sender message goes on, and this worker process takes its next message from
    whichever queue's turn it is: a long send never keeps job runs and sweeps waiting."""
    total = dict(NOTHING)
    slice_seconds = min(
        settings.NOTIFICATIONS_SENDER_SLICE_SECONDS, settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    )
    deadline = time.monotonic() + slice_seconds
    while claimed := notifications_claim(first_id=first_id, claimed_by=message_id):
        first_id = None
        for key, value in notifications_deliver(claimed).items():
            total[key] += value
        if time.monotonic() > deadline:
            # it sends what is due, marked or not (rows whose own message found its row
            # taken by this sender count on it); refused: the sweeper's time-out covers them
            sender_publish(first_id=None)
            break
    return total


def notifications_take_over(*, claimed_by: str) -> int:
    """Rows still `sending` under this message's claim: the worker that claimed them died
    (killed mid-batch) and the broker delivered the message again. Queue them again; the one
    that was in flight may go out twice, every other one once."""
    now = timezone.now()
    mine = Notification.objects.filter(status=Status.SENDING, claimed_by=claimed_by)
    mine.filter(attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS).update(
        status=Status.FAILED, last_error="Its sender was lost on every attempt.", updated_at=now
    )
    taken = mine.update(status=Status.QUEUED, enqueued_at=None, next_attempt_at=now, updated_at=now)
    if taken:
        log.warning("took back %s notifications from a sender that was lost", taken)
    return taken


def _backoff(attempt: int) -> float:
    return outbox.backoff(
        attempt,
        base=settings.NOTIFICATIONS_RETRY_BASE_SECONDS,
        cap=settings.NOTIFICATIONS_RETRY_MAX_SECONDS,
    )


def _finish(notification: Notification, status: str, **fields: Any) -> None:
    """Record one outcome of a row this sender holds (one short commit).

    A written-out UPDATE, its text kept per set of fields: the ORM compiles an UPDATE anew
    on every call (~0.4 ms of CPU, as much as rendering the message), once per message sent.
    """
    values = {"status": status, "updated_at": timezone.now(), **fields}
    fields = _notification_fields()
    params = [fields[name].get_db_prep_save(value, connection) for name, value in values.items()]
    if notification.user_id is None:  # (no account: nobody to tell live)
        with connection.cursor() as cursor:
            cursor.execute(_finish_sql(tuple(values)), [*params, notification.pk, Status.SENDING])
        return
    # the outcome and its live event (notification.sent / .failed) commit together
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_finish_sql(tuple(values)), [*params, notification.pk, Status.SENDING])
        if cursor.rowcount == 1:
            live_publish(
                type=f"notification.{status}",
                object_type="notification",
                object_id=notification.pk,
                audience=[notification.user_id],
                data={
                    "id": notification.pk,
                    "kind": notification.kind,
                    "subject": values.get("subject", notification.subject),
                    "status": status,
                },
            )


@functools.cache
def _finish_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    fields = _notification_fields()
    columns = ", ".join(f"{quote(fields[name].column)} = %s" for name in names)
    table = quote(Notification._meta.db_table)
    return f"UPDATE {table} SET {columns} WHERE id = %s AND status = %s"  # noqa: S608


@functools.cache
def _notification_fields() -> dict[str, Field[Any, Any]]:
    return {field.name: field for field in Notification._meta.concrete_fields}


def _retry_later(notification: Notification, reason: str, delay: float) -> None:
    """Back to the queue, due after `delay`: the publisher hands it over when that comes."""
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        enqueued_at=None,
        last_error=reason,
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    log.warning(
        "notification %s: transient error, retry in %.0fs: %s", notification.pk, delay, reason
    )


def _release(notifications: list[Notification], reason: str, *, delay: float | None = None) -> int:
    """Not the messages' fault (the server is unreachable, the sender ran out of time): put
    these rows back without spending their attempt, unless they have waited longer than
    NOTIFICATIONS_GIVE_UP_AFTER_HOURS. Returns how many wait."""
    now = timezone.now()
    ids = [n.pk for n in notifications]
    too_old = now - timedelta(hours=settings.NOTIFICATIONS_GIVE_UP_AFTER_HOURS)
    holding = Notification.objects.filter(pk__in=ids, status=Status.SENDING)
    holding.filter(created_at__lt=too_old).update(
        status=Status.FAILED, last_error=f"Gave up: server unreachable ({reason})", updated_at=now
    )
    delay = _backoff(1) if delay is None else delay
    waiting = holding.update(
        status=Status.QUEUED,
        enqueued_at=None,
        attempts=Greatest(F("attempts") - 1, 0),
        last_error=reason,
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    log.warning("%s notifications wait %.0fs: %s", waiting, delay, reason)
    for notification in notifications:
        gave_up = notification.created_at < too_old
        counters.notifications_counted(
            kind=notification.kind, outcome="failed" if gave_up else "retrying"
        )
    return waiting


def _contexts_load(deferred: list[Notification]) -> dict[int, Loaded]:
    """The template context of each deferred row (or why it can't be sent), by row id: one
    load per kind for the batch."""
    by_kind: dict[str, list[Notification]] = {}
    for notification in deferred:
        by_kind.setdefault(notification.kind, []).append(notification)
    contexts: dict[int, Loaded] = {}
    for kind, rows in by_kind.items():
        loaded = load_contexts(kind, [row.context for row in rows])
        contexts.update(zip((row.pk for row in rows), loaded, strict=True))
    return contexts


def _render_deferred(notification: Notification, context: Loaded) -> dict[str, str]:
    """Render a row created in bulk from its freshly loaded context; returns the fields to
    store with its outcome."""
    if isinstance(context, ContextGone):
        raise context
    rendered = render(notification.kind, context, user=notification.user)
    notification.subject = rendered.subject
    notification.body_text = rendered.text
    notification.body_html = rendered.html
    return {"subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html}
