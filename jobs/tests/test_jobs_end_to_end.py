"""Real parts: beat in its own process, a Celery worker, the broker, a real SMTP server.

A one-off reminder scheduled 3 s ahead goes beat -> dispatcher -> run -> notification ->
SMTP, and arrives exactly once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from jobs.models import Job, JobRun
from jobs.schedules import ONCE, Schedule
from taskplatform import heartbeat
from taskplatform.celery import app as celery_app
from taskplatform.testing import child_database_url, wait_for

from .helpers import in_seconds, make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def beat_process(tmp_path):
    log = tmp_path / "beat.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.test",
        "DATABASE_URL": child_database_url(),
        "CELERY_BROKER_URL": celery_app.conf.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",  # beat must send, not run, what is due
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "taskplatform",
            "beat",
            "--loglevel",
            "info",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    cache_key = heartbeat.KEY.format("beat")
    from django.core.cache import cache

    cache.delete(cache_key)
    try:
        assert wait_for(lambda: heartbeat.is_alive("beat"), timeout=30), log.read_text()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(log.read_text()[-3000:])


def test_a_one_off_reminder_arrives_on_time_exactly_once(
    smtp_server,
    real_worker,
    beat_process,
    user,
):
    due = in_seconds(3)
    job = make_job(
        user,
        schedule=Schedule(ONCE, run_at=due),
        params={"message": "end-to-end reminder"},
        notify_on=[],
    )
    assert wait_for(lambda: len(smtp_server.messages) >= 1, timeout=30)
    arrived = time.time()
    run = JobRun.objects.get(job=job)
    assert run.trigger == "schedule" and run.scheduled_for == due
    assert wait_for(lambda: JobRun.objects.get(pk=run.pk).status == "succeeded", timeout=10)
    run.refresh_from_db()
    lag = (run.started_at - due).total_seconds()
    assert 0 <= lag < 5, lag  # beat dispatches at the due time
    assert arrived - due.timestamp() < 10
    time.sleep(3)  # beat keeps ticking: nothing more goes out
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message.rcpt_tos == [user.email]
    assert b"end-to-end reminder" in message.content
    assert Job.objects.get(pk=job.pk).status == "completed"
    assert JobRun.objects.count() == 1
    assert smtp_server.port == settings.EMAIL_PORT


def test_runs_wait_out_a_broker_outage_and_run_once(private_redis, not_eager, user, caplog):
    from celery.contrib.testing.worker import start_worker
    from django.db import transaction

    from jobs.dispatch import jobs_dispatch_due
    from jobs.services import job_run_now
    from notifications.models import Notification
    from taskplatform.testing import use_broker

    caplog.set_level(logging.WARNING, logger="taskplatform.outbox")  # see the outbox test
    private_redis.start()
    use_broker(private_redis.url)
    private_redis.stop()  # the broker is now unreachable
    job = make_job(user, params={"message": "after the outage"})
    with transaction.atomic():
        run = job_run_now(job=job, actor=user)  # publishing after commit fails
    run.refresh_from_db()
    assert run.status == "queued" and run.enqueued_at is None  # kept for the next tick
    assert "broker unavailable: jobs.run" in caplog.text

    private_redis.start()  # back, and empty
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        jobs_dispatch_due()  # what beat does at the run's time
        assert wait_for(lambda: JobRun.objects.get(pk=run.pk).status == "succeeded", timeout=20)
        jobs_dispatch_due()  # a later pass finds nothing left to send
        time.sleep(1)
    assert JobRun.objects.count() == 1
    assert Notification.objects.filter(kind="reminder").count() == 1
