"""Each kind's handler, through the runner: reminder, file_cleanup, task_digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from files.models import StoredFile
from files.tests.factories import StoredFileFactory
from jobs import kinds, runner
from jobs.models import JobRun
from notifications.models import Notification
from taskplatform.testing import stored_blobs
from tasks.tests.factories import TaskFactory

from .helpers import make_job

pytestmark = pytest.mark.django_db


def run_now(job) -> JobRun:
    run = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    runner.run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_adding_a_kind_is_adding_a_module():
    assert kinds.names() == ["file_cleanup", "reminder", "task_digest"]
    for name in kinds.names():
        module = kinds.get(name)
        assert callable(module.execute) and module.Params


def test_reminder_emails_the_message_and_the_task(user):
    task = TaskFactory(owner=user, title="File taxes", due_at=timezone.now() + timedelta(days=2))
    job = make_job(user, params={"message": "Don't forget", "task_id": task.pk})
    run = run_now(job)
    assert run.status == "succeeded" and run.result["task_found"] is True
    note = Notification.objects.get(kind="reminder")
    assert note.to_email == user.email
    assert "Don't forget" in note.body_text and "File taxes" in note.body_text
    assert "File taxes" in note.body_html


def test_a_reminder_whose_task_was_deleted_still_goes_out(user):
    task = TaskFactory(owner=user)
    job = make_job(user, params={"message": "Ping", "task_id": task.pk})
    task.delete()
    run = run_now(job)
    assert run.status == "succeeded" and run.result["task_found"] is False
    assert Notification.objects.filter(kind="reminder").count() == 1


def test_a_retried_reminder_does_not_mail_twice(user):
    job = make_job(user)
    first = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    runner.run_execute(run_id=first.pk)
    retry = JobRun.objects.create(
        job=job, trigger="retry", attempt=2, retry_of=first, scheduled_for=timezone.now()
    )
    runner.run_execute(run_id=retry.pk)
    assert Notification.objects.filter(kind="reminder").count() == 1


def old_file(owner, name: str, days: int, content: bytes = b"x" * 10) -> StoredFile:
    stored = StoredFileFactory(owner=owner, name=name, content=content)
    StoredFile.objects.filter(pk=stored.pk).update(created_at=timezone.now() - timedelta(days=days))
    return stored


def test_file_cleanup_deletes_only_the_owner_s_old_matching_files(user, other_user, media):
    old_log = old_file(user, "app.log", 40, b"a" * 100)
    old_txt = old_file(user, "notes.txt", 40)
    recent_log = old_file(user, "new.log", 5)
    others = old_file(other_user, "their.log", 400)
    job = make_job(
        user, kind="file_cleanup", params={"older_than_days": 30, "name_pattern": "*.log"}
    )
    run = run_now(job)
    assert run.status == "succeeded", run.error
    assert run.result["count"] == 1 and run.result["bytes_freed"] == 100
    assert run.result["files"] == [{"id": old_log.pk, "name": "app.log", "size": 100}]
    remaining = set(StoredFile.objects.values_list("pk", flat=True))
    assert remaining == {old_txt.pk, recent_log.pk, others.pk}
    assert len(stored_blobs(media)) == 3  # the blob went with the row


def test_file_cleanup_dry_run_deletes_nothing(user, media):
    old_file(user, "a.log", 40, b"a" * 7)
    old_file(user, "b.txt", 40, b"b" * 5)
    job = make_job(user, kind="file_cleanup", params={"older_than_days": 30, "dry_run": True})
    run = run_now(job)
    assert run.result["dry_run"] is True and run.result["count"] == 2
    assert run.result["bytes_freed"] == 0 and run.result["bytes_matched"] == 12
    assert StoredFile.objects.count() == 2 and len(stored_blobs(media)) == 2


def test_task_digest_lists_overdue_due_soon_and_open(user, other_user):
    now = timezone.now()
    TaskFactory(owner=user, title="Late one", due_at=now - timedelta(days=1))
    TaskFactory(owner=user, title="Soon one", due_at=now + timedelta(hours=3))
    TaskFactory(owner=user, title="Someday")
    TaskFactory(owner=user, title="Finished", status="done")
    TaskFactory(owner=other_user, title="Not mine", due_at=now - timedelta(days=1))
    run = run_now(make_job(user, kind="task_digest"))
    assert run.result | {"notification_id": 0} == {
        "notification_id": 0,
        "overdue": 1,
        "due_soon": 1,
        "open_tasks": 3,
    }
    note = Notification.objects.get(kind="task_digest")
    assert "1 overdue, 1 due soon, 3 open" in note.subject
    for title in ["Late one", "Soon one", "Someday"]:
        assert title in note.body_text
    assert "Not mine" not in note.body_text and "Finished" not in note.body_text
