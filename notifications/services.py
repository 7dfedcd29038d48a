"""Notification use cases: notify, queue in bulk, resend, track, test email, preferences.

The Notification table is the outbox, and only this app writes it: a row is written in the
caller's transaction and, after commit, handed to a sender (notifications/publishing.py).
If the broker is down the row stays queued and the publisher (beat, every second) sends it
later; a claim (conditional UPDATE, notifications/sending.py) makes sure that however many
messages arrive for a row, it is sent once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from audit.services import audit_record
from taskplatform import counters

from .holding import must_hold
from .kinds import ACCOUNT_KINDS, PREFERENCE_FOR_KIND, Kind
from .limits import (
    held_back_summary_plan,
    notifications_limit_bulk,
    over_hourly_limit,
    suppressed_note,
)
from .models import Notification, NotificationPreference
from .publishing import CLAIM_BATCH, notifications_publish_due, written_publish
from .rendering import render
from .sending import notifications_claim, notifications_deliver

if TYPE_CHECKING:
    from accounts.models import User

Status = Notification.Status


# --- preferences ----------------------------------------------------------------------------


def preferences_get(*, user: User) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


@transaction.atomic
def preferences_update(
    *,
    user: User,
    job_created: bool | None = None,
    job_succeeded: bool | None = None,
    job_failed: bool | None = None,
    task_due_soon: bool | None = None,
    task_assigned: bool | None = None,
    daily_digest: bool | None = None,
    digest_hour: int | None = None,
    digest_when_empty: bool | None = None,
) -> NotificationPreference:
    """Change the given preferences (None: leave as is); the change is audited."""
    preference = preferences_get(user=user)
    asked = {
        "job_created": job_created,
        "job_succeeded": job_succeeded,
        "job_failed": job_failed,
        "task_due_soon": task_due_soon,
        "task_assigned": task_assigned,
        "daily_digest": daily_digest,
        "digest_hour": digest_hour,
        "digest_when_empty": digest_when_empty,
    }
    changed = {
        field: value
        for field, value in asked.items()
        if value is not None and getattr(preference, field) != value
    }
    for field, value in changed.items():
        setattr(preference, field, value)
    replan = []
    if {"daily_digest", "digest_hour"} & set(changed):
        preference.digest_due_at = None  # the digest planner works out the next hour anew
        replan = ["digest_due_at"]
    if changed:
        preference.save(update_fields=[*changed, *replan, "updated_at"])
        audit_record(
            actor=user,
            action="notifications.preferences_updated",
            target=preference,
            details={"changed": changed},
        )
    return preference


def notification_wanted(*, user: User, kind: Kind) -> bool:
    """Whether `user`'s preferences let `kind` through (kinds without a preference always do)."""
    field = PREFERENCE_FOR_KIND.get(kind)
    return field is None or bool(getattr(preferences_get(user=user), field))


# --- queueing -------------------------------------------------------------------------------


def notification_create(
    *,
    user: User | None,
    kind: Kind,
    context: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    to_email: str | None = None,
    asked_by_job: bool = False,
) -> Notification | None:
    """Queue one email to `user` (or to `to_email`) unless their preferences say no.

    `asked_by_job`: a job's own `notify_on` asked for this mail (job_created, job_succeeded,
    job_failed), and for that job it decides, not the preference (preferences are the
    defaults of new jobs' notify_on). Deactivated users still get nothing; an unverified
    address still holds it and the hourly limit still counts it.

    With an `idempotency_key`, the same event never mails twice: a second call returns the
    first notification. Sending starts after the surrounding transaction commits.
    """
    if user is not None and not user.is_active:
        return None  # deactivated accounts get nothing
    if user is not None and not asked_by_job and not notification_wanted(user=user, kind=kind):
        return None
    rendered = render(kind, context or {}, user=user)
    status = Status.HELD if must_hold(user=user, kind=kind) else Status.QUEUED
    suppressed = over_hourly_limit(user=user, kind=kind, now=timezone.now())
    if suppressed:
        status = Status.SUPPRESSED
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                to_email=to_email or (user.email if user is not None else ""),
                kind=kind,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                idempotency_key=idempotency_key,
                status=status,
                last_error=suppressed_note() if suppressed else "",
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        # the event was queued before (a retry, a redelivery) or is being queued now: that
        # one stands. Inserting first saves the lookup on the usual path, where it is new.
        return Notification.objects.get(idempotency_key=idempotency_key)
    if suppressed and user is not None:
        held_back_summary_plan(user=user, now=notification.created_at)
    if status != Status.QUEUED:
        _count_on_commit(kind, status)
    if notification.status == Status.QUEUED:
        transaction.on_commit(lambda: written_publish(notification.pk))
    return notification


# what a bulk caller's queryset names (see notifications_queue_bulk), in the INSERT's order
BULK_FIELDS = ("user_id", "to_email", "subject", "context", "idempotency_key")


@transaction.atomic
def notifications_queue_bulk(*, kind: Kind, rows: QuerySet, now: datetime | None = None) -> int:
    """Queue one `kind` notification per row of `rows`, in one INSERT … SELECT; returns how
    many were new.

    `rows` is a queryset (of any model) annotated with BULK_FIELDS: the recipient (`user_id`,
    `to_email`), a `subject` that stands until the row is rendered, the `context` (JSON the
    kind's context loader turns into fresh data right before sending: rows are rendered by
    the sender, not here) and an `idempotency_key` — a row whose key exists is skipped (ON
    CONFLICT DO NOTHING), so the same bulk run twice, or twice at once, queues each once.
    As with notification_create(), deactivated users and users whose preferences turn `kind` off get
    nothing. The rows leave for the senders after commit.
    """
    now = now or timezone.now()
    sql, params = _insert_select(kind, _recipients(kind, rows), now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    ids = [pk for pk, _ in inserted]
    if ids:
        _count_on_commit(kind, Status.HELD, sum(status == Status.HELD for _, status in inserted))
        # past their user's hourly limit: suppressed (the publisher skips them, and held ones)
        _count_on_commit(kind, Status.SUPPRESSED, notifications_limit_bulk(kind=kind, now=now))
        # one sender starts at once (it sends every due row, batch after batch); the
        # publisher's tick hands the rest over in the next seconds, more senders joining in
        transaction.on_commit(lambda: notifications_publish_due(ids=ids[:CLAIM_BATCH]))
    return len(ids)


def _count_on_commit(kind: str, outcome: str, count: int = 1) -> None:
    # held and suppressed rows are counted when written; the rest when sent (sending.py)
    if count:
        transaction.on_commit(
            lambda: counters.notifications_counted(kind=kind, outcome=outcome, count=count)
        )


def _recipients(kind: Kind, rows: QuerySet) -> QuerySet:
    """`rows` without the users notification_create() would skip."""
    rows = rows.filter(
        Exists(get_user_model().objects.filter(pk=OuterRef("user_id"), is_active=True))
    )
    field = PREFERENCE_FOR_KIND.get(kind)
    if field is not None:
        turned_off = NotificationPreference.objects.filter(user_id=OuterRef("user_id"))
        rows = rows.exclude(Exists(turned_off.filter(**{field: False})))
    return rows


def _status_on_arrival(kind: str) -> Value | Case:
    """`held` for users whose address isn't verified (see holding.py), else `queued`."""
    text: CharField[str, str] = CharField()
    if kind in ACCOUNT_KINDS or not settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION:
        return Value(Status.QUEUED.value, output_field=text)
    unverified = get_user_model().objects.filter(
        pk=OuterRef("user_id"), email_verified_at__isnull=True
    )
    return Case(
        When(Exists(unverified), then=Value(Status.HELD.value)),
        default=Value(Status.QUEUED.value),
        output_field=text,
    )


def _insert_select(kind: str, rows: QuerySet, now: datetime) -> tuple[str, list[Any]]:
    """INSERT INTO notification (…) SELECT … FROM `rows` ON CONFLICT DO NOTHING RETURNING
    id, status."""
    text: CharField[str, str] = CharField()
    fixed = {
        "kind": Value(kind, output_field=text),
        "body_text": Value("", output_field=text),
        "body_html": Value("", output_field=text),
        "status": _status_on_arrival(kind),
        "attempts": Value(0, output_field=IntegerField()),
        "last_error": Value("", output_field=text),
        "provider_message_id": Value("", output_field=text),
        "claimed_by": Value("", output_field=text),
        "next_attempt_at": Value(now),
        "created_at": Value(now),
        "updated_at": Value(now),
    }
    columns = [*BULK_FIELDS, *fixed]
    # the fixed values under names no model has (an annotation can't shadow a field)
    select = rows.order_by().annotate(**{f"bulk_{name}": value for name, value in fixed.items()})
    select = select.values_list(*BULK_FIELDS, *[f"bulk_{name}" for name in fixed])
    select_sql, params = select.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} "
        f"({', '.join(quote(c) for c in columns)}) {select_sql} "
        f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('status')}"
    )
    return sql, list(params)


# --- operator actions and provider events ---------------------------------------------------


@transaction.atomic
def notification_resend(*, notification: Notification, actor: User) -> Notification:
    """Send again (e.g. after a bounce or a failure), as a fresh queued attempt."""
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.QUEUED,
        enqueued_at=None,
        attempts=0,
        last_error="",
        next_attempt_at=now,
        sent_at=None,
        updated_at=now,
    )
    audit_record(actor=actor, action="notification.resent", target=notification)
    transaction.on_commit(lambda: written_publish(notification.pk))
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


def email_setup_check(*, to_email: str) -> Notification:
    """Send one test message now, in this process, through the configured backend."""
    with transaction.atomic():
        notification = notification_create(user=None, kind=Kind.TEST_EMAIL, to_email=to_email)
        if notification is None:  # pragma: no cover - no user, so no preference to say no
            raise RuntimeError("the test email was not queued")
        # claimed before commit: the worker's copy of the message will find nothing to do
        claimed = notifications_claim(first_id=notification.pk, limit=1)
    notifications_deliver(claimed)
    notification.refresh_from_db()
    return notification
