"""The due-soon sweep: bulk, once per (task, due date), preferences, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from notifications.sending import notifications_send_due
from tasks.celery_tasks import due_soon_sweep
from tasks.due_soon import due_soon_reminders_queue
from tasks.models import Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db


def soon(hours=2):
    return timezone.now() + timedelta(hours=hours)


def test_one_reminder_per_due_task_and_none_twice(
    user, other_user, django_capture_on_commit_callbacks
):
    due = TaskFactory(owner=user, title="Pay rent", due_at=soon())
    TaskFactory(owner=user, due_at=soon(30))  # not within 24 h
    TaskFactory(owner=user, due_at=timezone.now() - timedelta(hours=1))  # overdue already
    TaskFactory(owner=user, due_at=soon(), status="done")
    TaskFactory(owner=user)  # no due date
    theirs = TaskFactory(owner=other_user, due_at=soon(5), status="in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        assert due_soon_reminders_queue() == 2
    assert due_soon_reminders_queue() == 0  # the second sweep creates nothing
    rows = Notification.objects.filter(kind="task_due_soon")
    assert {n.user_id for n in rows} == {user.pk, other_user.pk}
    assert {n.context["task_id"] for n in rows} == {due.pk, theirs.pk}
    # the senders rendered them with fresh data and sent each once
    assert sorted(m.subject for m in mail.outbox) == sorted(
        ["Due soon: Pay rent", f"Due soon: {theirs.title}"]
    )
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert "Pay rent" in next(m.body for m in mail.outbox if "Pay rent" in m.subject)


def test_moving_the_due_date_sends_a_new_reminder(user):
    task = TaskFactory(owner=user, due_at=soon())
    assert due_soon_reminders_queue() == 1
    Task.objects.filter(pk=task.pk).update(due_at=soon(3))
    assert due_soon_reminders_queue() == 1
    assert Notification.objects.filter(kind="task_due_soon").count() == 2


def test_preferences_are_respected(user, other_user):
    NotificationPreference.objects.create(user=user, task_due_soon=False)
    TaskFactory(owner=user, due_at=soon())
    TaskFactory(owner=other_user, due_at=soon())
    assert due_soon_reminders_queue() == 1
    assert Notification.objects.get().user == other_user


def test_a_reminder_for_a_task_that_moved_on_is_not_sent(user):
    moved = TaskFactory(owner=user, due_at=soon())
    finished = TaskFactory(owner=user, due_at=soon())
    deleted = TaskFactory(owner=user, due_at=soon())
    assert due_soon_reminders_queue() == 3
    Task.objects.filter(pk=moved.pk).update(due_at=soon(10))
    Task.objects.filter(pk=finished.pk).update(status="done")
    deleted.delete()
    assert notifications_send_due() == {"sent": 0, "retrying": 0, "failed": 3}
    errors = set(Notification.objects.values_list("last_error", flat=True))
    assert errors == {
        "Not sent: the due date changed",
        "Not sent: the task is done",
        "Not sent: the task was deleted",
    }
    assert mail.outbox == []


def test_the_sweep_is_a_single_statement_for_any_number_of_tasks(
    user, django_assert_max_num_queries, settings
):
    settings.NOTIFICATIONS_PER_USER_PER_HOUR = 100  # this user's 50 all go (see test_limits)
    for _ in range(50):
        TaskFactory(owner=user, due_at=soon())
    # savepoint, INSERT … SELECT, the hourly limit's count (one, for every user), release
    with django_assert_max_num_queries(4):
        assert due_soon_reminders_queue() == 50


def test_the_beat_task_runs_the_sweep(user):
    TaskFactory(owner=user, due_at=soon())
    assert due_soon_sweep() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_create_each_reminder_once(user):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    for _ in range(200):
        TaskFactory(owner=user, due_at=soon())
    results, barrier = [], threading.Barrier(2)

    def sweep():
        barrier.wait()
        results.append(due_soon_reminders_queue())
        connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 200
    assert Notification.objects.filter(kind="task_due_soon").count() == 200
