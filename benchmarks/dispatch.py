"""Dispatch lag at scale: scheduled time -> run started, with 100 and 100,000 active jobs.

For each scenario the jobs table is filled (PostgreSQL), a real Celery beat (the
dispatcher inside it, woken at the due time: jobs/beat.py) and a real worker (prefork,
`--concurrency` processes, 2 by default as the Procfile's on 2 cores) run as their own
processes, and `--due` jobs fall due in the same second (`--due 1667`: a minute boundary of
100,000 cron jobs spread over the hour). Lag is each run's
`started_at - scheduled_for`. Prints p50 / p99 for
  baseline  100 active jobs, all 100 due in the same second
  scale     100,000 active jobs, 1,000 of them due in the same second
and the ratio of the p99s (goal: p99 at scale <= 2 x p99 of the baseline, and < 5 s).
A third line (100,000 jobs, 100 due) separates table size from the size of the burst.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python benchmarks/dispatch.py

The worker consumes `default` and `maintenance` (runs and sweeps); emails the
reminders queue stay in the outbox (a separate notifications worker sends them in
production), so the figure is dispatch and run start, not SMTP.
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
import subprocess
from datetime import datetime, timedelta

from benchmarks.harness import bench_setup
from taskplatform.testing import wait_for


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Processes:
    """Beat and worker as the Procfile starts them (worker concurrency from --concurrency)."""

    def __init__(self, work: Path, concurrency: int, pool: str) -> None:
        self.work, self.concurrency, self.pool = work, concurrency, pool
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        from taskplatform import heartbeat

        base = [sys.executable, "-m", "celery", "-A", "taskplatform"]
        commands = [
            [
                *base,
                "worker",
                "-Q",
                "default,maintenance",
                "-c",
                str(self.concurrency),
                "--pool",
                self.pool,
                "--prefetch-multiplier",
                "1",
                "--loglevel",
                "warning",
            ],
            [*base, "beat", "--loglevel", "warning", "--schedule", str(self.work / "beat")],
        ]
        for command in commands:
            log = (self.work / f"{command[5]}.log").open("w")
            self.procs.append(
                subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            )
        ready = wait_for(
            lambda: heartbeat.is_alive("worker") and heartbeat.is_alive("beat"), timeout=60
        )
        assert ready, "worker/beat did not start: see " + str(self.work)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []


def fill(total: int, due: int, owners: list) -> None:
    """`total - due` active jobs not due for a day or more (every day, spread out)."""
    from django.db import connection
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule

    from jobs.models import Job, JobRun

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {JobRun._meta.db_table}, {Job._meta.db_table} CASCADE")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    now = timezone.now()
    batch = []
    for n in range(total - due):
        batch.append(
            Job(
                owner=owners[n % len(owners)],
                name=f"background {n}",
                kind="reminder",
                params={"message": "later"},
                interval=daily,
                next_run_at=now + timedelta(days=1, seconds=n % 86400),
                notify_on=[],
            )
        )
        if len(batch) == 5000:
            Job.objects.bulk_create(batch)
            batch = []
    Job.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Job._meta.db_table}")


def burst(due: int, owners: list, seconds_ahead: float) -> datetime:
    """`due` one-off reminders, all due at the same whole second."""
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule

    from jobs.models import Job

    at = (timezone.now() + timedelta(seconds=seconds_ahead + 1)).replace(microsecond=0)
    clocked, _ = ClockedSchedule.objects.get_or_create(clocked_time=at)
    Job.objects.bulk_create(
        Job(
            owner=owners[n % len(owners)],
            name=f"due {n}",
            kind="reminder",
            params={"message": "now"},
            clocked=clocked,
            next_run_at=at,
            notify_on=[],
        )
        for n in range(due)
    )
    return at


def scenario(total: int, due: int, owners: list, work: Path, args) -> list[float]:
    from jobs.models import JobRun

    fill(total, due, owners)
    processes = Processes(work, args.concurrency, args.pool)
    processes.start()
    try:
        at = burst(due, owners, seconds_ahead=2)
        started = lambda: JobRun.objects.filter(started_at__isnull=False).count()  # noqa: E731
        assert wait_for(lambda: started() >= due, timeout=120, interval=0.2), (
            f"only {started()} of {due} runs started"
        )
        assert wait_for(
            lambda: not JobRun.objects.filter(status__in=["queued", "running"]).exists(),
            timeout=120,
        )
    finally:
        processes.stop()
    runs = list(JobRun.objects.values_list("scheduled_for", "created_at", "started_at", "status"))
    assert len(runs) == due, f"{len(runs)} runs for {due} due jobs"
    assert {status for *_, status in runs} == {"succeeded"}, {s for *_, s in runs}
    assert all(scheduled == at for scheduled, *_ in runs)
    created = [(c - s).total_seconds() for s, c, *_ in runs]
    print(
        f"  {total} active, {due} due: runs created after p50 {percentile(created, 50):.2f} s,"
        f" p99 {percentile(created, 99):.2f} s",
        flush=True,
    )
    return [(started - scheduled).total_seconds() for scheduled, _, started, _ in runs if started]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--concurrency", type=int, default=2, help="worker processes (2: the Procfile's, 2 cores)"
    )
    parser.add_argument("--pool", default="prefork", help="worker pool: prefork or threads")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--only", help="run one scenario: baseline, scale or scale-100")
    args = parser.parse_args()
    work = bench_setup(
        prefix="bench-dispatch-",
        database="bench",
        redis_db=14,
        # the owners are sent far more than an hour's limit of reminders: send them all,
        # as before the limit existed, so figures stay comparable
        NOTIFICATIONS_PER_USER_PER_HOUR="0",
    )
    import redis
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from accounts.models import User

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    # nothing but the dispatcher (in beat) during the measurement
    PeriodicTask.objects.update(enabled=False)
    PeriodicTasks.update_changed()
    owners = [
        User.objects.get_or_create(
            email=f"dispatch-{n}@example.com", defaults={"email_verified_at": timezone.now()}
        )[0]
        for n in range(100)
    ]
    results = {}
    try:
        for label, total, due in [
            ("baseline", 100, 100),
            ("scale", args.large, args.due),
            ("scale-100", args.large, 100),
        ]:
            if args.only and label != args.only:
                continue
            lags = scenario(total, due, owners, work, args)
            results[label] = (total, due, percentile(lags, 50), percentile(lags, 99))
    finally:
        PeriodicTask.objects.update(enabled=True)
        PeriodicTasks.update_changed()
        shutil.rmtree(work, ignore_errors=True)
    print(f"worker {args.pool} x{args.concurrency}, dispatcher in beat, PostgreSQL + Redis")
    for label, (total, due, p50, p99) in results.items():
        print(f"{label:<10} {total:>7} active, {due:>5} due   p50 {p50:6.2f} s   p99 {p99:6.2f} s")
    if args.only:
        return
    ratio = results["scale"][3] / results["baseline"][3]
    ok = ratio <= 2 and results["scale"][3] < 5
    print(
        f"ratio p99 scale / baseline {ratio:5.2f}   goal <= 2 and p99 < 5 s  "
        f"{'OK' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
