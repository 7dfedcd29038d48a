"""Mail to an unverified address waits (held), goes out once it is verified, and is dropped
when it waited too long; the verification mail itself always goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F, Value
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from notifications.celery_tasks import sweep_notifications
from notifications.holding import notifications_release_held, notifications_sweep_held
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create, notifications_queue_bulk

pytestmark = pytest.mark.django_db

Status = Notification.Status


@pytest.fixture
def unverified() -> User:
    return UserFactory(email_verified_at=None)


def test_mail_to_an_unverified_address_is_held_and_account_mail_is_not(unverified):
    reminder = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "x"})
    verify = notification_create(user=unverified, kind=Kind.TEST_EMAIL)
    assert reminder is not None and reminder.status == Status.HELD
    assert verify is not None and verify.status == Status.QUEUED


def test_operator_made_accounts_are_verified_and_their_mail_goes_out():
    user = User.objects.create_user(email="made@example.com", password="x")
    assert user.email_verified
    mail = notification_create(user=user, kind=Kind.REMINDER, context={"message": "x"})
    assert mail is not None and mail.status == Status.QUEUED


def test_verifying_releases_what_was_held(unverified, django_capture_on_commit_callbacks):
    held = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "x"})
    unverified.email_verified_at = timezone.now()
    unverified.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notifications_release_held(user=unverified) == 1
    held.refresh_from_db()
    assert held.status == Status.QUEUED and held.enqueued_at is None and callbacks


def test_the_sweeper_releases_for_verified_users_and_drops_after_the_hold_days(
    unverified, settings
):
    settings.ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS = 7
    fresh = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "a"})
    stale = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "b"})
    Notification.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    assert notifications_sweep_held() == {"released": 0, "dropped": 1}
    stale.refresh_from_db()
    assert stale.status == Status.DROPPED and "not verified" in stale.last_error

    User.objects.filter(pk=unverified.pk).update(email_verified_at=timezone.now())
    result = sweep_notifications()  # the beat task runs it (and publishes: eager here)
    assert result["released"] == 1
    fresh.refresh_from_db()
    assert fresh.status == Status.SENT


def test_with_verification_turned_off_nothing_is_held_and_what_was_goes(unverified, settings):
    held = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "a"})
    settings.ACCOUNTS_REQUIRE_EMAIL_VERIFICATION = False
    fresh = notification_create(user=unverified, kind=Kind.REMINDER, context={"message": "b"})
    assert fresh.status == Status.QUEUED
    assert notifications_sweep_held()["released"] == 1
    held.refresh_from_db()
    assert held.status == Status.QUEUED


def test_bulk_rows_for_unverified_users_arrive_held(unverified):
    verified = UserFactory()
    rows = User.objects.filter(pk__in=[unverified.pk, verified.pk]).annotate(
        user_id=F("pk"),
        to_email=F("email"),
        subject=Value("Due soon"),
        context=Value({}, output_field=Notification._meta.get_field("context")),
        idempotency_key=F("email"),
    )
    assert notifications_queue_bulk(kind=Kind.TASK_DUE_SOON, rows=rows) == 2
    statuses = dict(Notification.objects.values_list("user_id", "status"))
    assert statuses == {unverified.pk: Status.HELD, verified.pk: Status.QUEUED}
