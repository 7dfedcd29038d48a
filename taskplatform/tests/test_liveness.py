"""The lock that tells a dead execution of a message from a live one (taskplatform.liveness)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from jobs import runner
from jobs.models import JobRun
from jobs.tests.helpers import make_job
from notifications import sending as notifications
from notifications.models import Notification
from taskplatform import liveness

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def held_by_another_process(key: str):
    """The lock as a live execution elsewhere holds it (another connection / file handle)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname=db["NAME"],
            autocommit=True,
        ) as other:
            other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
            try:
                yield
            finally:
                # freed now: a closed connection's locks go when its backend exits, a moment
                # after the close returns (the next check could still see them held)
                other.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
    else:
        path = Path(settings.VAR_DIR) / "locks" / hashlib.sha256(key.encode()).hexdigest()[:32]
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def test_the_lock_is_taken_once_and_freed_after():
    with liveness.holding("k") as first:
        assert first
        with held_by_another_process("other"), liveness.holding("other") as second:
            assert not second
    with liveness.holding("k") as again:
        assert again


def test_a_run_held_by_a_live_execution_is_not_taken_over(user):
    run = JobRun.objects.create(job=make_job(user), trigger="manual", scheduled_for=timezone.now())
    JobRun.objects.filter(pk=run.pk).update(status="running", claimed_by="m-1", deliveries=1)
    with held_by_another_process("jobs.run:m-1"):  # the broker handed out a live task again
        assert runner.run_execute(run_id=run.pk, message_id="m-1") is None
    run.refresh_from_db()
    assert run.status == "running" and run.deliveries == 1
    # once that execution is gone, the same message takes the run over
    assert runner.run_execute(run_id=run.pk, message_id="m-1") == "succeeded"


def test_rows_held_by_a_live_sender_are_not_taken_back(user):
    row = Notification.objects.create(
        user=user, to_email=user.email, kind="reminder", subject="s", body_text="t"
    )
    notifications.notifications_claim(claimed_by="m-1")
    with held_by_another_process("notifications.send:m-1"):
        assert notifications.notifications_send_due(message_id="m-1")["sent"] == 0
        row.refresh_from_db()
        assert row.status == "sending"
