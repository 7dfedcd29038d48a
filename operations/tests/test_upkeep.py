"""Prune (retention) and the health watch (one email on going bad, one on recovery)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from audit.models import AuditEvent
from audit.services import audit_record
from jobs.models import JobRun
from jobs.tests.helpers import make_job
from notifications.models import Notification
from operations import watch
from operations.celery_tasks import prune_daily
from operations.celery_tasks import watch as watch_task
from operations.models import WatchState

pytestmark = pytest.mark.django_db


def age(model, pk, days: int, field: str = "created_at") -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now() - timedelta(days=days)})


@pytest.fixture
def history(user):
    job = make_job(user)
    old_run = JobRun.objects.create(
        job=job, trigger="manual", scheduled_for=timezone.now(), status="succeeded"
    )
    new_run = JobRun.objects.create(
        job=job, trigger="manual", scheduled_for=timezone.now(), status="succeeded"
    )
    queued_old = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    for run in (old_run, queued_old):
        age(JobRun, run.pk, 200)
    sent_old = Notification.objects.create(
        user=user, to_email=user.email, kind="welcome", subject="x", status="sent"
    )
    queued_note = Notification.objects.create(
        user=user, to_email=user.email, kind="welcome", subject="y"
    )
    for note in (sent_old, queued_note):
        age(Notification, note.pk, 200)
    token = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=token["jti"]).update(
        expires_at=timezone.now() - timedelta(days=30)
    )
    event = audit_record(actor=user, action="user.login", target=user)
    # audit events can't be updated through the ORM: go around it, as time would
    models.QuerySet.update(
        AuditEvent.objects.filter(pk=event.pk), created_at=timezone.now() - timedelta(days=900)
    )
    return {
        "old_run": old_run,
        "new_run": new_run,
        "queued_old": queued_old,
        "sent_old": sent_old,
        "queued_note": queued_note,
        "event": event,
    }


def test_prune_deletes_what_is_old_and_finished_and_keeps_audit(history, capsys):
    call_command("prune", "--dry-run", "--no-progress")
    assert "would delete        1 runs" in capsys.readouterr().out
    assert JobRun.objects.count() == 3
    call_command("prune", "--no-progress")
    out = capsys.readouterr().out
    assert "audit events kept" in out
    assert set(JobRun.objects.values_list("pk", flat=True)) == {
        history["new_run"].pk,
        history["queued_old"].pk,  # not finished: never pruned
    }
    assert list(Notification.objects.values_list("pk", flat=True)) == [history["queued_note"].pk]
    assert not OutstandingToken.objects.exists()
    assert AuditEvent.objects.filter(pk=history["event"].pk).exists()
    assert AuditEvent.objects.filter(action="ops.pruned").exists()


def test_prune_audit_only_when_asked(history, capsys):
    call_command("prune", "--no-progress", "--audit-older-than", "365")
    assert not AuditEvent.objects.filter(pk=history["event"].pk).exists()
    assert "audit events" in capsys.readouterr().out


def test_prune_rejects_bad_ages():
    with pytest.raises(CommandError):
        call_command("prune", "--runs-older-than", "0")
    with pytest.raises(CommandError):
        call_command("prune", "--runs-older-than", "soon")


def test_the_daily_prune_task_uses_the_settings(history, settings):
    settings.PRUNE_RUNS_DAYS = 365
    counts = prune_daily()
    assert counts["runs"] == 0 and counts["notifications"] == 1


def test_health_watch_mails_once_on_going_bad_and_once_on_recovery(settings, monkeypatch):
    settings.ADMINS = [("Ops", "ops@example.com")]
    problems = ["broker is down"]
    monkeypatch.setattr(watch, "find_problems", lambda: list(problems))
    assert watch_task()["changed"] is True
    assert watch_task()["changed"] is False  # still bad: no second email
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("Failing: broker is down")
    assert mail.outbox[0].to == ["ops@example.com"]
    problems.clear()
    assert watch.health_watch()["healthy"] is True
    watch.health_watch()
    assert len(mail.outbox) == 2 and "Recovered" in mail.outbox[1].subject
    state = WatchState.objects.get()
    assert state.healthy and state.problems == []
    assert list(
        AuditEvent.objects.filter(action__startswith="ops.health").values_list("action", flat=True)
    ) == ["ops.health_recovered", "ops.health_failing"]


def test_find_problems_sees_backlog_and_failure_rate(user, settings):
    settings.WATCH_MIN_RUNS = 2
    job = make_job(user)
    stale = timezone.now() - timedelta(hours=1)
    JobRun.objects.create(job=job, trigger="manual", scheduled_for=stale)
    for _ in range(3):
        JobRun.objects.create(
            job=job,
            trigger="manual",
            scheduled_for=stale,
            status="failed",
            finished_at=timezone.now(),
        )
    Notification.objects.create(
        user=user, to_email=user.email, kind="welcome", subject="x", next_attempt_at=stale
    )
    problems = watch.find_problems()
    assert any("job run(s) waiting" in p for p in problems)
    assert any("notification(s) waiting" in p for p in problems)
    assert any("3 of 3 job runs failed" in p for p in problems)
    # the test settings have no worker or beat running: those are reported too
    assert "worker is down" in problems and "beat is down" in problems


def test_prune_keeps_a_job_s_last_run_even_when_its_first_attempt_is_old(user):
    job = make_job(user)
    first = JobRun.objects.create(
        job=job, trigger="schedule", scheduled_for=timezone.now(), status="retrying"
    )
    retry = JobRun.objects.create(
        job=job,
        trigger="retry",
        attempt=2,
        retry_of=first,
        scheduled_for=timezone.now(),
        status="failed",
    )
    age(JobRun, first.pk, 200)
    age(JobRun, retry.pk, 200)
    job.last_run = retry
    job.save()
    call_command("prune", "--no-progress")
    assert list(JobRun.objects.values_list("pk", flat=True)) == [retry.pk]
    job.refresh_from_db()
    assert job.last_run_id == retry.pk


def test_the_daily_prune_deletes_the_embedded_brokers_taken_messages(history, settings, tmp_path):
    from kombu import Connection

    settings.EMBEDDED_BROKER = True
    settings.BROKER_DB = tmp_path / "broker.sqlite3"
    url = f"sqlite:///{settings.BROKER_DB}"
    with Connection(url) as connection:  # the sqlite scheme: taskplatform/celery.py
        queue = connection.SimpleQueue("default")
        for n in range(3):
            queue.put({"n": n})
        for _ in range(2):
            queue.get(timeout=1).ack()
        assert prune_daily()["broker_messages"] == 2
        assert queue.get(timeout=1).payload == {"n": 2}  # the waiting one is still there
        queue.close()


def test_the_prune_of_broker_messages_is_nothing_before_the_first_message(settings, tmp_path):
    from taskplatform.embedded_broker import delivered_delete

    settings.BROKER_DB = tmp_path / "broker.sqlite3"
    assert delivered_delete() == 0
