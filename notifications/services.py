"""Notification use cases: notify, claim and deliver, re-enqueue, resend, preferences.

The Notification table is the outbox: a row is written in the caller's transaction and a
Celery message is sent after commit. If the broker is down the row stays `queued` and the
sweeper (beat, every minute) sends it later; a claim (conditional UPDATE) makes sure that
however many messages arrive for a row, it is sent once.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Greatest
from django.utils import timezone

from audit.services import record
from taskplatform import liveness

from . import delivery
from .kinds import PREFERENCE_FOR_KIND, Kind
from .models import Notification, NotificationPreference
from .rendering import ContextGone, load_context, render

log = logging.getLogger(__name__)

Status = Notification.Status
CLAIM_BATCH = 100


# --- preferences ----------------------------------------------------------------------------


def preferences_get(*, user) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


@transaction.atomic
def preferences_update(*, user, **changes: Any) -> NotificationPreference:
    preference = preferences_get(user=user)
    changed = {k: v for k, v in changes.items() if getattr(preference, k) != v}
    for field, value in changed.items():
        setattr(preference, field, value)
    if changed:
        preference.save(update_fields=[*changed, "updated_at"])
        record(
            actor=user,
            action="notifications.preferences_updated",
            target=preference,
            details={"changed": changed},
        )
    return preference


def wants(*, user, kind: str) -> bool:
    field = PREFERENCE_FOR_KIND.get(kind)
    return field is None or bool(getattr(preferences_get(user=user), field))


# --- creating and enqueueing ----------------------------------------------------------------


def _publish(task, args: tuple, *, countdown: float | None = None) -> bool:
    """Send one Celery message. A broker outage is logged, not raised: the sweeper retries."""
    try:
        task.apply_async(
            args,
            queue="notifications",
            countdown=countdown,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:
        log.warning("broker unavailable: notifications stay queued for the sweeper", exc_info=True)
        return False
    return True


def _enqueue(notification_ids: list[int], *, countdown: float | None = None) -> None:
    """Ask a worker to send these rows (each message claims its row and a batch)."""
    from .celery_tasks import send_notification

    for notification_id in notification_ids:
        if not _publish(send_notification, (notification_id,), countdown=countdown):
            return


KICK_KEY = "notifications:kick:{}"


def _kick() -> None:
    """Make sure a sender will run for newly queued rows, without one message per row.

    Up to NOTIFICATIONS_SENDERS sender tasks may be waiting at once, each marked by a cache
    key it deletes when it starts. If every mark is there, senders that have not started
    yet will find the new rows; otherwise this takes a free mark and queues a sender.
    """
    from .celery_tasks import send_pending_notifications

    for slot in range(settings.NOTIFICATIONS_SENDERS):
        key = KICK_KEY.format(slot)
        try:
            taken = cache.add(key, 1, timeout=settings.NOTIFICATIONS_KICK_TTL_SECONDS)
        except Exception:  # no cache: fall back to queueing a sender anyway
            log.warning("cache unavailable for the notification kick", exc_info=True)
            taken = True
        if taken:
            if not _publish(send_pending_notifications, (slot,)):
                _forget_kick(slot)  # let the next notification try the broker again
            return


def _forget_kick(slot: int) -> None:
    try:
        cache.delete(KICK_KEY.format(slot))
    except Exception:  # the mark expires by itself (NOTIFICATIONS_KICK_TTL_SECONDS)
        log.warning("cache unavailable: the sender mark %s expires by itself", slot)


def sender_started(slot: int) -> None:
    _forget_kick(slot)


def notify(
    *,
    user,
    kind: str,
    context: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    to_email: str | None = None,
) -> Notification | None:
    """Queue one email to `user` (or to `to_email`) unless their preferences say no.

    With an `idempotency_key`, the same event never mails twice: a second call returns the
    first notification. Sending starts after the surrounding transaction commits.
    """
    if user is not None and (not user.is_active or not wants(user=user, kind=kind)):
        return None  # deactivated accounts get nothing
    if idempotency_key:
        existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    rendered = render(kind, context or {}, user=user)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                to_email=to_email or user.email,
                kind=kind,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        # a concurrent call with the same key won the race
        return Notification.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(_kick)
    return notification


# --- claiming and delivering ----------------------------------------------------------------


def notifications_claim(
    *, first_id: int | None = None, limit: int = CLAIM_BATCH, claimed_by: str = ""
) -> list:
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
            claimed_by=claimed_by,
            # the Message-ID this attempt is sent with: known before sending, so a batch
            # is recorded as sent in one UPDATE (providers with ids of their own overwrite it)
            # (a random part per claim keeps it unique across databases and resets)
            provider_message_id=Concat(
                Value("<notification."),
                Cast("id", CharField()),
                Value("."),
                Cast(F("attempts") + 1, CharField()),
                Value(f".{uuid.uuid4().hex[:12]}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"),
            ),
        )
    return list(
        Notification.objects.filter(pk__in=ids, status=Status.SENDING)
        .select_related("user")
        .order_by("id")
    )


def backoff_seconds(attempt: int) -> float:
    """Exponential back-off with jitter, capped."""
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)
    return min(settings.NOTIFICATIONS_RETRY_MAX_SECONDS, base) * random.uniform(0.8, 1.2)  # noqa: S311


def notifications_deliver(notifications: list[Notification]) -> dict[str, int]:
    """Send claimed rows over one reused connection and record each outcome as it happens.

    Each outcome commits on its own, so a worker killed mid-batch leaves every message it
    sent recorded as sent: only the one in flight can go out twice. When the server can't be
    reached at all, the rest of the batch goes back to the queue without spending attempts.
    """
    outcome = {"sent": 0, "retrying": 0, "failed": 0}
    for index, notification in enumerate(notifications):
        try:
            if not notification.body_text:
                _render_deferred(notification)
            provider_id = delivery.send(delivery.build_message(notification))
        except ContextGone as gone:
            _finish(notification, Status.FAILED, last_error=f"Not sent: {gone}")
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
                _retry_later(notification, reason, backoff_seconds(notification.attempts))
                outcome["retrying"] += 1
            else:
                _finish(notification, Status.FAILED, last_error=reason)
                log.error("notification %s failed: %s", notification.pk, reason)
                outcome["failed"] += 1
            continue
        sent_at = timezone.now()
        _finish(
            notification,
            Status.SENT,
            sent_at=sent_at,
            last_error="",
            **(
                {"provider_message_id": provider_id}
                if provider_id != notification.provider_message_id
                else {}
            ),
        )
        outcome["sent"] += 1
    return outcome


def _finish(notification: Notification, status: str, **fields: Any) -> None:
    """Record one outcome of a row this sender holds (one short commit)."""
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=status, updated_at=timezone.now(), **fields
    )


def _retry_later(notification: Notification, reason: str, delay: float) -> None:
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        last_error=reason,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        updated_at=timezone.now(),
    )
    log.warning(
        "notification %s: transient error, retry in %.0fs: %s", notification.pk, delay, reason
    )
    _enqueue([notification.pk], countdown=delay)


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
    delay = backoff_seconds(1) if delay is None else delay
    waiting = holding.update(
        status=Status.QUEUED,
        attempts=Greatest(F("attempts") - 1, 0),
        last_error=reason,
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    log.warning("%s notifications wait %.0fs: %s", waiting, delay, reason)
    _enqueue(ids[:1], countdown=delay)
    return waiting


def _render_deferred(notification: Notification) -> None:
    """Render a row created in bulk, from fresh data, and keep the result."""
    rendered = render(
        notification.kind,
        load_context(notification.kind, notification.context),
        user=notification.user,
    )
    notification.subject = rendered.subject
    notification.body_text = rendered.text
    notification.body_html = rendered.html
    Notification.objects.filter(pk=notification.pk).update(
        subject=rendered.subject, body_text=rendered.text, body_html=rendered.html
    )


def kick_senders() -> None:
    """For code that creates notification rows in bulk: wake the senders after commit."""
    transaction.on_commit(_kick)


def notifications_send_due(*, first_id: int | None = None, message_id: str = "") -> dict[str, int]:
    """Claim and deliver batches (the given row first) until nothing is due.

    `message_id` is the Celery message's id. The sender holds a lock named after it while it
    sends (taskplatform.liveness): the same message delivered again with that lock free means
    the sender that had it died, and its unsent rows are taken back at once; with the lock
    held, a live sender has them, and this delivery does nothing.
    """
    if not message_id:
        return _send_due(first_id, "")
    with liveness.holding(f"notifications.send:{message_id}") as alone:
        if not alone:
            return {"sent": 0, "retrying": 0, "failed": 0}
        notifications_take_over(claimed_by=message_id)
        return _send_due(first_id, message_id)


def _send_due(first_id: int | None, message_id: str) -> dict[str, int]:
    """Batch after batch; past half the task's soft time limit, a fresh sender goes on."""
    total = {"sent": 0, "retrying": 0, "failed": 0}
    deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    while claimed := notifications_claim(first_id=first_id, claimed_by=message_id):
        first_id = None
        for key, value in notifications_deliver(claimed).items():
            total[key] += value
        if time.monotonic() > deadline:
            _kick()
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
    taken = mine.update(status=Status.QUEUED, next_attempt_at=now, updated_at=now)
    if taken:
        log.warning("took back %s notifications from a sender that was lost", taken)
    return taken


# --- the sweeper and operator actions -------------------------------------------------------


def notifications_requeue_stuck() -> int:
    """Re-enqueue rows the broker never delivered; free claims of workers that died."""
    now = timezone.now()
    Notification.objects.filter(
        status=Status.SENDING,
        updated_at__lt=now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS),
    ).update(status=Status.QUEUED, next_attempt_at=now, updated_at=now)
    stuck = list(
        Notification.objects.filter(
            status=Status.QUEUED,
            next_attempt_at__lte=now
            - timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    # one message per batch is enough: each claims CLAIM_BATCH due rows
    _enqueue(stuck[::CLAIM_BATCH])
    return len(stuck)


@transaction.atomic
def notification_resend(*, notification: Notification, actor) -> Notification:
    """Send again (e.g. after a bounce or a failure), as a fresh queued attempt."""
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.QUEUED,
        attempts=0,
        last_error="",
        next_attempt_at=timezone.now(),
        sent_at=None,
        updated_at=timezone.now(),
    )
    record(actor=actor, action="notification.resent", target=notification)
    transaction.on_commit(lambda: _enqueue([notification.pk]))
    notification.refresh_from_db()
    return notification


def notification_track(*, message_id: str, event_type: str, description: str = "") -> int:
    """Apply a provider's tracking event (anymail webhook) to the matching row."""
    status = {
        "delivered": Status.DELIVERED,
        "bounced": Status.BOUNCED,
        "rejected": Status.BOUNCED,
        "failed": Status.FAILED,
    }.get(event_type)
    if status is None or not message_id:
        return 0
    return Notification.objects.filter(provider_message_id=message_id).update(
        status=status, last_error=description[:2000], updated_at=timezone.now()
    )


def send_test_email(*, to_email: str) -> Notification:
    """Send one message now, in this process, through the configured backend."""
    with transaction.atomic():
        notification = notify(user=None, kind=Kind.TEST_EMAIL, to_email=to_email)
        # claimed before commit: the worker's copy of the message will find nothing to do
        claimed = notifications_claim(first_id=notification.pk, limit=1)
    notifications_deliver(claimed)
    notification.refresh_from_db()
    return notification
