"""The platform's counters at /metrics (issue 14, seed 004): runs by kind and final status,
emails by kind and outcome, reminders sent/failed, errors; and the worker's counts, written
by another process, summed into the web's /metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, TestCase
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs import kinds, runner
from jobs.kinds import reminder
from jobs.models import JobRun
from jobs.tests.helpers import make_job
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def scraped(client, name: str, **labels: str) -> float:
    """A sample's value in what /metrics answers (0 when it isn't there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


class Scrape:
    """Counters are per process, so a test compares what it changed: before and after."""

    def __init__(self, client, *samples: tuple[str, dict[str, str]]) -> None:
        self.client, self.samples = client, samples
        self.before = self.now()

    def now(self) -> list[float]:
        return [scraped(self.client, name, **labels) for name, labels in self.samples]

    def change(self) -> list[float]:
        return [after - before for after, before in zip(self.now(), self.before, strict=True)]


def run_once(job) -> str | None:
    """One run, its outcome committed (counts are taken after commit)."""
    run = JobRun.objects.create(job=job, trigger="schedule", scheduled_for=timezone.now())
    with TestCase.captureOnCommitCallbacks(execute=True):
        return runner.run_execute(run_id=run.pk)


def test_runs_are_counted_by_kind_and_final_status(api_client, user, monkeypatch):
    scrape = Scrape(
        api_client,
        ("job_runs_total", {"kind": "reminder", "status": "succeeded"}),
        ("job_runs_total", {"kind": "reminder", "status": "retrying"}),
        ("job_runs_total", {"kind": "reminder", "status": "failed"}),
        ("errors_total", {"source": "job_run"}),
    )
    job = make_job(user, max_retries=1)
    assert run_once(job) == "succeeded"
    errors = [ConnectionError("relay down"), kinds.PermanentError("no such task")]

    def explode(job, job_run):
        raise errors.pop(0)

    monkeypatch.setattr(reminder, "execute", explode)
    assert run_once(job) == "retrying"
    assert run_once(job) == "failed"
    assert scrape.change() == [1, 1, 1, 1]  # a failed run is an error; a retried one not yet


def test_a_cancelled_run_is_counted_too(api_client, user):
    scrape = Scrape(api_client, ("job_runs_total", {"kind": "reminder", "status": "cancelled"}))
    job = make_job(user)
    job.status = "cancelled"
    job.save()
    assert run_once(job) == "cancelled"
    assert scrape.change() == [1]


def test_a_sent_reminder_is_counted_as_an_email_and_a_reminder(api_client, user, smtp_server):
    scrape = Scrape(
        api_client,
        ("notifications_total", {"kind": "reminder", "outcome": "sent"}),
        ("reminders_total", {"outcome": "sent"}),
    )
    run_once(make_job(user))  # the mail is sent after commit (eager Celery here)
    assert len(smtp_server.messages) == 1
    assert scrape.change() == [1, 1]


def test_refused_and_deferred_emails_are_counted(api_client, user, smtp_server):
    scrape = Scrape(
        api_client,
        ("notifications_total", {"kind": "reminder", "outcome": "failed"}),
        ("reminders_total", {"outcome": "failed"}),
        ("notifications_total", {"kind": "reminder", "outcome": "retrying"}),
        ("reminders_total", {"outcome": "retrying"}),
    )
    smtp_server.refuse_next = ["550 5.1.1 No such user", "451 4.3.0 Try again later"]
    run_once(make_job(user, name="one"))
    run_once(make_job(user, name="two"))
    assert [n.status for n in Notification.objects.filter(kind="reminder").order_by("id")] == [
        "failed",
        "queued",
    ]
    assert scrape.change() == [1, 1, 1, 0]  # reminders count what is final: sent or failed


def test_held_and_suppressed_emails_are_counted_when_written(api_client, user, settings):
    settings.NOTIFICATIONS_PER_USER_PER_HOUR = 1
    scrape = Scrape(
        api_client,
        ("notifications_total", {"kind": "task_assigned", "outcome": "held"}),
        ("notifications_total", {"kind": "task_assigned", "outcome": "suppressed"}),
    )
    context = {"task": None, "assigner": user}
    with TestCase.captureOnCommitCallbacks(execute=True):
        notification_create(user=user, kind=Kind.TASK_ASSIGNED, context=context)  # the 1 allowed
        notification_create(user=user, kind=Kind.TASK_ASSIGNED, context=context)
        type(user).objects.filter(pk=user.pk).update(email_verified_at=None)
        user.refresh_from_db()
        settings.NOTIFICATIONS_PER_USER_PER_HOUR = 0
        notification_create(user=user, kind=Kind.TASK_ASSIGNED, context=context)
    assert scrape.change() == [1, 1]


def test_unhandled_errors_answered_500_are_counted(api_client, settings):
    settings.ROOT_URLCONF = "taskplatform.tests.urls"
    scrape = Scrape(api_client, ("errors_total", {"source": "http"}))
    assert api_client.get("/test/boom/").status_code == 500  # in a DRF view
    client = Client(raise_request_exception=False)
    assert client.get("/test/plain-boom/").status_code == 500  # outside DRF
    assert api_client.get("/test/conflict/").status_code == 409  # not an error of ours
    assert scrape.change() == [2]


def test_the_worker_s_counts_reach_the_web_s_metrics(api_client, settings, tmp_path, monkeypatch):
    """The worker is another process: it writes its counts to files in its own
    PROMETHEUS_MULTIPROC_DIR (VAR_DIR/prometheus-worker), which /metrics sums with the web's."""
    settings.VAR_DIR = tmp_path
    worker_dir = tmp_path / "prometheus-worker"  # created by the worker (counters.py)
    count = (
        "from taskplatform import counters\n"
        "counters.run_counted(kind='reminder', status='failed')\n"
        "counters.notifications_counted(kind='reminder', outcome='sent', count=3)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir)}
    for _ in range(2):  # two worker processes (a prefork pool, a restart)
        subprocess.run([sys.executable, "-c", count], cwd=ROOT, env=env, check=True, timeout=60)
    web_dir = tmp_path / "prometheus"
    web_dir.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(web_dir))
    assert scraped(api_client, "job_runs_total", kind="reminder", status="failed") == 2
    assert scraped(api_client, "errors_total", source="job_run") == 2
    assert scraped(api_client, "notifications_total", kind="reminder", outcome="sent") == 6
    assert scraped(api_client, "reminders_total", outcome="sent") == 6
    # each family once, the web's own request counts beside the worker's
    text = api_client.get("/metrics").content.decode()
    assert text.count("# TYPE job_runs_total counter") == 1


@pytest.mark.e2e
def test_a_real_worker_process_s_run_and_mail_show_at_the_web_s_metrics(
    api_client, transactional_db, not_eager, user, settings, tmp_path, monkeypatch
):
    """A `celery worker` process (prefork, as the Procfile starts it) given
    PROMETHEUS_MULTIPROC_DIR=VAR_DIR/prometheus-worker runs a job and sends its reminder; the
    web (multiprocess mode, its own folder) serves both counts."""
    from jobs.services import job_run_now
    from taskplatform.testing import child_database_url, wait_for

    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus-worker"),
    }
    command = ["celery", "-A", "taskplatform", "worker", "-c", "1", "-l", "WARNING"]
    command += ["-Q", "default,notifications"]
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / command[0]), *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run = job_run_now(job=make_job(user, notify_on=[]), actor=user)
        assert wait_for(
            lambda: Notification.objects.filter(kind="reminder", status="sent").exists(), 60
        ), JobRun.objects.get(pk=run.pk).status
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=60)
    settings.VAR_DIR = tmp_path
    (tmp_path / "prometheus").mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    assert scraped(api_client, "job_runs_total", kind="reminder", status="succeeded") == 1, errors
    assert scraped(api_client, "notifications_total", kind="reminder", outcome="sent") == 1
    assert scraped(api_client, "reminders_total", outcome="sent") == 1
