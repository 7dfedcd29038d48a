"""Job-run throughput against bare Celery no-op tasks: same broker, same worker, same run.

One real worker as the Procfile starts it (`celery -A taskplatform worker -Q
default,notifications,maintenance`, prefork, `--concurrency` processes, prefetch from
settings) runs, in turn (bare, ours, bare, ours … `--rounds` times each):

  bare  N `bench.noop` tasks published to `default`; each INCRs a counter in the Redis
        database of REDIS_URL, and the one that brings it to N notes the time there. Rate =
        N / (that time - the first publish). The task is defined in this file and the worker
        imports it (`-I benchmarks.run_throughput`).
  ours  N reminder jobs (clocked schedule, next_run_at NULL so no dispatcher would touch
        them) with one queued run each, published by `jobs.dispatch.job_runs_publish_due`
        (the dispatcher's outbox step). Rate = N / (the last run's finished_at - the first
        publish); every run must have succeeded.

Prints both rates per round, the median of each, and the ratio ours / bare (goal >= 0.5).
A reminder queues an email: the worker sends it from `notifications` with Django's dummy
email backend (EMAIL_BACKEND), so the figure is job runs, not SMTP; the next round starts
when the emails are out. No beat runs (nothing periodic competes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_disp \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python benchmarks/run_throughput.py [--count 2000] [--rounds 2]

PostgreSQL only. It truncates the jobs tables and flushes the Redis database it is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import time
from datetime import timedelta

import redis
from celery import shared_task

from benchmarks.harness import bench_setup
from taskplatform.testing import wait_for

COUNTER, DONE_AT = "bench:noop:count", "bench:noop:done-at"
QUEUES = ("default", "notifications", "maintenance")
_client: list[redis.Redis] = []


def _redis() -> redis.Redis:
    if not _client:
        _client.append(redis.Redis.from_url(os.environ["REDIS_URL"]))
    return _client[0]


@shared_task(name="bench.noop", queue="default")
def noop(total: int) -> None:
    """The least a task can do and still be counted."""
    if _redis().incr(COUNTER) == total:
        _redis().set(DONE_AT, repr(time.time()))


class Worker:
    def __init__(self, work: Path, concurrency: int) -> None:
        self.work, self.concurrency = work, concurrency
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        from taskplatform import heartbeat

        command = [sys.executable, "-m", "celery", "-A", "taskplatform", "worker"]
        command += ["-Q", ",".join(QUEUES), "-c", str(self.concurrency)]
        command += ["-I", "benchmarks.run_throughput", "--loglevel", "warning"]
        log = (self.work / "worker.log").open("w")
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        assert wait_for(lambda: heartbeat.is_alive("worker"), timeout=60), (
            f"the worker did not start: see {self.work}"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None


def idle(timeout: float = 300) -> None:
    """The queues are empty and every email is out: the next round has the worker to itself."""
    from notifications.models import Notification

    pending = Notification.objects.filter(
        status__in=[Notification.Status.QUEUED, Notification.Status.SENDING]
    )
    assert wait_for(
        lambda: not any(_redis().llen(q) for q in QUEUES) and not pending.exists(),
        timeout=timeout,
        interval=0.5,
    ), "the worker did not finish the last round's work"
    time.sleep(1)  # the last tasks acknowledged


def bare(count: int) -> float:
    _redis().delete(COUNTER, DONE_AT)
    start = time.time()
    for _ in range(count):
        noop.apply_async((count,), queue="default")
    assert wait_for(lambda: _redis().exists(DONE_AT) > 0, timeout=600, interval=0.05), (
        f"only {_redis().get(COUNTER)!r} of {count} no-ops ran"
    )
    return count / (float(_redis().get(DONE_AT) or 0) - start)


def ours(count: int, owners: list) -> float:
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule

    from jobs.dispatch import job_runs_publish_due
    from jobs.models import Job, JobRun

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {JobRun._meta.db_table}, {Job._meta.db_table} CASCADE")
    now = timezone.now()
    clocked, _ = ClockedSchedule.objects.get_or_create(
        clocked_time=now.replace(microsecond=0) + timedelta(days=1)
    )
    jobs = Job.objects.bulk_create(
        Job(
            owner=owners[n % len(owners)],
            name=f"reminder {n}",
            kind="reminder",
            params={"message": "x"},
            clocked=clocked,
            next_run_at=None,  # the dispatcher leaves them alone
            notify_on=[],
        )
        for n in range(count)
    )
    JobRun.objects.bulk_create(
        JobRun(job=job, trigger=JobRun.Trigger.SCHEDULE, scheduled_for=now) for job in jobs
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {JobRun._meta.db_table}")
    start = time.time()
    while job_runs_publish_due(now=timezone.now(), limit=count):
        pass
    unfinished = JobRun.objects.filter(status__in=[JobRun.Status.QUEUED, JobRun.Status.RUNNING])
    assert wait_for(lambda: not unfinished.exists(), timeout=600, interval=0.2), (
        f"{unfinished.count()} of {count} runs not finished"
    )
    statuses = set(JobRun.objects.values_list("status", flat=True))
    assert statuses == {JobRun.Status.SUCCEEDED}, statuses
    assert JobRun.objects.count() == count
    end = JobRun.objects.aggregate(end=Max("finished_at"))["end"]
    return count / (end.timestamp() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000, help="tasks / runs per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each (2)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (2)")
    args = parser.parse_args()
    work = bench_setup(
        prefix="bench-runs-",
        database="bench_disp",
        redis_db=9,
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # one owner gets N / 100 reminders a round: send them all (dispatch.py does too)
        NOTIFICATIONS_PER_USER_PER_HOUR="0",
    )
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import Notification

    _redis().flushdb()
    with connection.cursor() as cursor:  # a killed run's emails: their messages are gone
        cursor.execute(f"TRUNCATE {Notification._meta.db_table} CASCADE")
    owners = [
        User.objects.get_or_create(
            email=f"runs-{n}@example.com", defaults={"email_verified_at": timezone.now()}
        )[0]
        for n in range(100)
    ]
    worker = Worker(work, args.concurrency)
    worker.start()
    rates: dict[str, list[float]] = {"bare": [], "ours": []}
    try:
        for round_ in range(1, args.rounds + 1):
            for label in ("bare", "ours"):
                idle()
                rate = bare(args.count) if label == "bare" else ours(args.count, owners)
                rates[label].append(rate)
                print(f"  round {round_} {label:<4} {rate:8.0f} /s", flush=True)
    finally:
        worker.stop()
        shutil.rmtree(work, ignore_errors=True)
    bare_rate, ours_rate = statistics.median(rates["bare"]), statistics.median(rates["ours"])
    print(f"worker prefork x{args.concurrency}, {args.count} per round, PostgreSQL + Redis")
    print(f"bare no-op tasks   {bare_rate:8.0f} /s  (median of {len(rates['bare'])})")
    print(f"job runs           {ours_rate:8.0f} /s  (median of {len(rates['ours'])})")
    ratio = ours_rate / bare_rate
    print(f"ratio ours / bare  {ratio:8.2f}   goal >= 0.5  {'OK' if ratio >= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
