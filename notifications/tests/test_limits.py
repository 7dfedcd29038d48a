"""The hourly limit per user: mail past it is not sent, one summary says what it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F, Value
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.sending import notifications_send_due
from notifications.services import notification_create, notifications_queue_bulk

pytestmark = pytest.mark.django_db

Status = Notification.Status


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.NOTIFICATIONS_PER_USER_PER_HOUR = 3


def _remind(user, n: int) -> list[Notification]:
    return [
        notification_create(user=user, kind=Kind.REMINDER, context={"message": f"m{i}"})
        for i in range(n)
    ]


def test_mail_past_the_limit_is_suppressed_and_one_summary_is_planned(user):
    rows = _remind(user, 5)
    assert [r.status for r in rows] == [Status.QUEUED] * 3 + [Status.SUPPRESSED] * 2
    assert "hourly limit of 3" in rows[-1].last_error
    summary = Notification.objects.get(kind=Kind.EMAILS_HELD_BACK)
    hour_end = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert summary.status == Status.QUEUED and summary.next_attempt_at == hour_end
    assert summary.user == user and not summary.body_text  # rendered when it is sent
    refused = AuditEvent.objects.filter(action="quota.refused")
    assert list(refused.values_list("details", flat=True)) == [
        {"quota": "emails_per_hour", "limit": 3}
    ]


def test_account_mail_is_not_counted_nor_limited(user):
    _remind(user, 3)
    verify = notification_create(user=user, kind=Kind.TEST_EMAIL)
    assert verify.status == Status.QUEUED
    other = UserFactory()
    assert _remind(other, 1)[0].status == Status.QUEUED  # per user


def test_the_limit_slides_over_the_last_hour(user):
    _remind(user, 3)
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert _remind(user, 1)[0].status == Status.QUEUED


def test_zero_means_no_limit(user, settings):
    settings.NOTIFICATIONS_PER_USER_PER_HOUR = 0
    assert {r.status for r in _remind(user, 5)} == {Status.QUEUED}


def test_the_summary_is_sent_once_the_hour_ends_with_what_was_held_back(user):
    _remind(user, 5)
    Notification.objects.filter(kind=Kind.EMAILS_HELD_BACK).update(next_attempt_at=timezone.now())
    assert notifications_send_due()["sent"] == 4  # three reminders and the summary
    summary = next(m for m in mail.outbox if "held back" in m.subject)
    assert summary.subject == "2 emails held back: over 3 an hour"
    assert summary.to == [user.email] and "not sent" in summary.body
    assert Notification.objects.filter(status=Status.SUPPRESSED).count() == 2


def test_bulk_rows_past_the_limit_are_suppressed_per_user(user):
    _remind(user, 2)
    rows = User.objects.filter(pk=user.pk).annotate(
        user_id=F("pk"),
        to_email=F("email"),
        subject=Value("Due soon"),
        context=Value({}, output_field=Notification._meta.get_field("context")),
    )
    for n in range(3):
        assert notifications_queue_bulk(
            kind=Kind.TASK_DUE_SOON, rows=rows.annotate(idempotency_key=Value(f"k{n}"))
        )
    due_soon = Notification.objects.filter(kind=Kind.TASK_DUE_SOON).order_by("id")
    assert [n.status for n in due_soon] == [Status.QUEUED, Status.SUPPRESSED, Status.SUPPRESSED]
    assert Notification.objects.filter(kind=Kind.EMAILS_HELD_BACK).count() == 1
