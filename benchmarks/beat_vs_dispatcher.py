"""Publish lateness: stock django-celery-beat against our dispatcher, on the same N cron jobs.

The workload is issue 15's: N cron jobs spread over the hour (job i runs at minute i % 60 of
every hour, UTC), so N/60 of them fall due at every minute boundary (1,667 at 100,000). All
N rows exist and each scheduler carries all of them; the run watches `--minutes` boundaries
in a row (default 3: N/60 x 3 sends, 50 at 1,000 — at that size p99 is the worst of them),
the first one at least `--settle` seconds after the scheduler is up, so the catch-up of the
minutes that passed while the table was filled and the processes started is not measured.

  stock  N django_celery_beat PeriodicTask rows (task `bench.noop`, queue `bench-stock`) and
         stock beat: `celery -A taskplatform beat --scheduler
         django_celery_beat.schedulers:DatabaseScheduler`. A PeriodicTask every 5 s tells when
         beat has loaded its schedule and ticks.
  ours   N Job rows (kind reminder, crontab, next_run_at the next slot) and beat as the
         Procfile runs it (the scheduler from settings), plus a worker on `maintenance` only
         (where the `jobs.dispatch` tick runs today). Nothing consumes `default`: the runs
         are published there as `jobs.run` and never run.

A probe process of this script consumes the queue the sends go to (`bench-stock`, or
`default` for ours) over kombu on the same broker, and notes each message's arrival
(time.time()). Lateness = arrival - the minute boundary it was due at (stock: the minute in
its args; ours: the run's `scheduled_for`). Every other periodic task is disabled during the
run and restored after. Stock beat falls behind at 100,000: the wait after the last boundary
is capped (`--wait`), and what had not arrived by then counts as not sent (p99 "never" when
less than 99 % arrived).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_disp \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python benchmarks/beat_vs_dispatcher.py [--n 1000 100000] [--minutes 3]

PostgreSQL only. It truncates the jobs tables and flushes the Redis database it is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

from benchmarks.harness import bench_setup
from taskplatform.testing import wait_for

STOCK_QUEUE = "bench-stock"
BATCH = 5000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def due_per_minute(n: int, minute: int) -> int:
    """How many of jobs 0 .. n-1 run at `minute` (job i at minute i % 60)."""
    return len(range(minute, n, 60))


# --- the probe: a process of its own, notes when each message arrives ----------------------


def probe(queue_name: str, broker: str, out: Path, ready: Path) -> None:
    from kombu import Connection, Consumer, Exchange, Queue

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    queue = Queue(queue_name, Exchange(queue_name), routing_key=queue_name)
    with Connection(broker) as connection, out.open("w", buffering=1) as lines:

        def arrived(body, message) -> None:
            at = time.time()
            args = body[0] if isinstance(body, list | tuple) and body else []
            lines.write(json.dumps([at, message.headers.get("task"), args]) + "\n")

        with Consumer(connection, [queue], callbacks=[arrived], no_ack=True, accept=["json"]):
            ready.touch()
            while not stopping:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.5)


def arrivals(out: Path) -> list[tuple[float, str, list]]:
    if not out.exists():
        return []
    rows = []
    for line in out.read_text().splitlines():
        try:
            at, task, args = json.loads(line)
        except ValueError:  # a line being written
            continue
        rows.append((at, task, args))
    return rows


# --- processes ------------------------------------------------------------------------------


class Processes:
    """The probe, beat and (ours) a maintenance worker, each a process of its own."""

    def __init__(self, work: Path, label: str) -> None:
        self.work, self.label = work, label
        self.procs: list[subprocess.Popen] = []
        self.out = work / f"{label}-arrivals.jsonl"

    def start_probe(self, queue: str, broker: str) -> None:
        ready = self.work / f"{self.label}-probe-ready"
        ready.unlink(missing_ok=True)
        self.out.unlink(missing_ok=True)
        command = [sys.executable, __file__, "--probe", queue, "--broker", broker]
        command += ["--out", str(self.out), "--ready", str(ready)]
        self._spawn(command, "probe")
        assert wait_for(ready.exists, timeout=30), "the probe did not start"

    def start_celery(self, *arguments: str) -> None:
        base = [sys.executable, "-m", "celery", "-A", "taskplatform"]
        self._spawn([*base, *arguments, "--loglevel", "warning"], arguments[0])

    def _spawn(self, command: list[str], name: str) -> None:
        log = (self.work / f"{self.label}-{name}.log").open("w")
        self.procs.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))

    def pid(self, index: int) -> int:
        return self.procs[index].pid

    def stop(self) -> None:
        for proc in reversed(self.procs):  # the probe last: it sees everything sent
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


# --- the two schedulers' tables ----------------------------------------------------------


def crontabs() -> dict:
    """One CrontabSchedule per minute of the hour (hour `*`, UTC), shared by the jobs."""
    from django_celery_beat.models import CrontabSchedule

    rows = {}
    for minute in range(60):
        fields = {
            "minute": str(minute),
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            "timezone": "UTC",
        }
        row = CrontabSchedule.objects.filter(**fields).order_by("id").first()
        rows[minute] = row or CrontabSchedule.objects.create(**fields)
    return rows


def bench_tasks_delete() -> None:
    from django.db import connection
    from django_celery_beat.models import PeriodicTasks

    with connection.cursor() as cursor:  # raw: 100,000 deletes with signals take minutes
        cursor.execute(
            "DELETE FROM django_celery_beat_periodictask WHERE name LIKE %s", ["bench-%"]
        )
    PeriodicTasks.update_changed()


def jobs_truncate() -> None:
    from django.db import connection

    from jobs.models import Job, JobRun

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {JobRun._meta.db_table}, {Job._meta.db_table} CASCADE")


def stock_fill(n: int) -> None:
    from django.db import connection
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    bench_tasks_delete()
    PeriodicTask.objects.update(enabled=False)  # only ours tick (restored by main)
    rows = crontabs()
    batch = []
    for i in range(n):
        minute = i % 60
        batch.append(
            PeriodicTask(
                name=f"bench-{i}",
                task="bench.noop",
                crontab=rows[minute],
                args=json.dumps([minute]),
                queue=STOCK_QUEUE,
            )
        )
        if len(batch) == BATCH:
            PeriodicTask.objects.bulk_create(batch)
            batch = []
    PeriodicTask.objects.bulk_create(batch)
    every5, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.create(
        name="bench-ready", task="bench.noop", interval=every5, args='["ready"]', queue=STOCK_QUEUE
    )
    PeriodicTasks.update_changed()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {PeriodicTask._meta.db_table}")


def ours_fill(n: int, owners: list) -> None:
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from jobs.models import Job
    from jobs.schedules import cron, next_after

    bench_tasks_delete()
    jobs_truncate()
    # only the dispatcher ticks (after issue 15 it may live in beat itself: then none does)
    PeriodicTask.objects.exclude(task="jobs.dispatch").update(enabled=False)
    PeriodicTask.objects.filter(task="jobs.dispatch").update(enabled=True)
    PeriodicTasks.update_changed()
    rows = crontabs()
    now, utc = timezone.now(), ZoneInfo("UTC")
    slots = {m: next_after(cron(f"{m} * * * *"), utc, now) for m in range(60)}
    batch = []
    for i in range(n):
        minute = i % 60
        batch.append(
            Job(
                owner=owners[i % len(owners)],
                name=f"cron {i}",
                kind="reminder",
                params={"message": "x"},
                crontab=rows[minute],
                timezone="UTC",
                next_run_at=slots[minute],
                notify_on=[],
            )
        )
        if len(batch) == BATCH:
            Job.objects.bulk_create(batch)
            batch = []
    Job.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Job._meta.db_table}")


# --- one measurement ---------------------------------------------------------------------


def boundaries_after(moment: float, count: int) -> list[datetime]:
    first = datetime.fromtimestamp(math.ceil(moment / 60) * 60, UTC)
    return [first + timedelta(minutes=k) for k in range(count)]


def observe(label: str, due: int, boundaries: list[datetime], args, done) -> None:
    """Wait for the boundaries to pass, then until `done()` (everything due was sent) or the
    cap: `--wait` seconds after the last boundary."""
    last = boundaries[-1].timestamp()
    print(
        f"  {label}: observing {len(boundaries)} boundaries from {boundaries[0]:%H:%M}"
        f" ({due} sends due)",
        flush=True,
    )
    time.sleep(max(0.0, last - time.time() + 1))
    wait_for(done, timeout=max(0.0, last + args.wait - time.time()), interval=1.0)
    time.sleep(1)  # the probe writes what is in flight


def stock_run(n: int, work: Path, broker: str, args) -> dict:
    import redis

    stock_fill(n)
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    processes = Processes(work, f"stock-{n}")
    try:
        processes.start_probe(STOCK_QUEUE, broker)
        started = time.time()
        scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
        processes.start_celery("beat", "--scheduler", scheduler)

        def ready() -> bool:
            return any(a == ["ready"] for _, _, a in arrivals(processes.out))

        assert wait_for(ready, timeout=1200, interval=1.0), "stock beat sent nothing"
        loaded = time.time() - started
        boundaries = boundaries_after(time.time() + args.settle, args.minutes)
        by_minute = {b.minute: b.timestamp() for b in boundaries}
        due = sum(due_per_minute(n, m) for m in by_minute)

        def late() -> list[float]:
            return [
                at - by_minute[a[0]]
                for at, _, a in arrivals(processes.out)
                if a and a[0] in by_minute and at >= by_minute[a[0]] - 30
            ]

        observe(f"stock {n}", due, boundaries, args, lambda: len(late()) >= due)
        if args.profile:
            profile(processes.pid(1), work / f"stock-{n}-beat.py-spy.txt")
    finally:
        processes.stop()
        bench_tasks_delete()
    return summary(late(), due, loaded)


def ours_run(n: int, owners: list, work: Path, broker: str, args) -> dict:
    import redis

    from jobs.models import JobRun
    from taskplatform import heartbeat

    ours_fill(n, owners)
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    processes = Processes(work, f"ours-{n}")
    try:
        processes.start_probe("default", broker)
        started = time.time()
        processes.start_celery("beat", "--schedule", str(work / f"ours-{n}-beat"))
        processes.start_celery(
            "worker", "-Q", "maintenance", "-c", str(args.concurrency), "-n", f"bench-{n}@%h"
        )
        ready = wait_for(
            lambda: heartbeat.is_alive("worker") and heartbeat.is_alive("beat"), timeout=120
        )
        assert ready, f"worker/beat did not start: see {work}"
        loaded = time.time() - started
        boundaries = boundaries_after(time.time() + args.settle, args.minutes)
        due = sum(due_per_minute(n, b.minute) for b in boundaries)
        observed = JobRun.objects.filter(scheduled_for__in=boundaries)
        observe(
            f"ours {n}",
            due,
            boundaries,
            args,
            lambda: observed.filter(enqueued_at__isnull=False).count() >= due,
        )
        time.sleep(1)  # marked just before publishing: let the last batch go out
        if args.profile:
            profile(processes.pid(1), work / f"ours-{n}-beat.py-spy.txt")
    finally:
        processes.stop()
    first: dict[int, float] = {}
    for at, _, a in arrivals(processes.out):
        ids = a[0] if a and isinstance(a[0], list) else a[:1]  # one run id, or a list of them
        for run_id in ids:
            first.setdefault(int(run_id), at)
    scheduled: dict[int, float] = {}
    ids = list(first)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for pk, slot in observed.filter(pk__in=chunk).values_list("pk", "scheduled_for"):
            scheduled[pk] = slot.timestamp()
    jobs_truncate()
    return summary([first[pk] - slot for pk, slot in scheduled.items()], due, loaded)


def profile(pid: int, out: Path) -> None:
    """What beat does right now (py-spy dump), for the report; skipped without py-spy."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    result = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
    out.write_text(result.stdout + result.stderr)


def summary(lateness: list[float], due: int, loaded: float) -> dict:
    sent = len(lateness)
    padded = lateness + [math.inf] * max(0, due - sent)  # not sent within the cap: never
    return {
        "p50": percentile(padded, 50) if padded else math.nan,
        "p99": percentile(padded, 99) if padded else math.nan,
        "sent": sent / due if due else math.nan,
        "due": due,
        "loaded": loaded,
    }


def seconds(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 100_000], help="jobs")
    parser.add_argument("--minutes", type=int, default=3, help="minute boundaries observed (3)")
    parser.add_argument(
        "--wait", type=float, default=60, help="cap on the wait after the last boundary (60 s)"
    )
    parser.add_argument("--settle", type=float, default=15, help="s from start to 1st boundary")
    parser.add_argument("--concurrency", type=int, default=2, help="maintenance worker (2)")
    parser.add_argument("--only", choices=["stock", "ours"], help="run one side")
    parser.add_argument("--profile", action="store_true", help="py-spy dump beat at the end")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--broker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.broker, Path(args.out), Path(args.ready))
        return
    work = bench_setup(
        prefix="bench-beat-",
        database="bench_disp",
        redis_db=9,
    )
    from django.conf import settings
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from accounts.models import User

    broker = settings.CELERY_BROKER_URL
    bench_tasks_delete()  # a run that was killed left its rows
    enabled = set(PeriodicTask.objects.filter(enabled=True).values_list("pk", flat=True))
    owners = [
        User.objects.get_or_create(
            email=f"beat-{n}@example.com", defaults={"email_verified_at": timezone.now()}
        )[0]
        for n in range(100)
    ]
    results: dict[int, dict[str, dict]] = {}
    try:
        for n in args.n:
            results[n] = {}
            if args.only != "ours":
                results[n]["stock"] = stock_run(n, work, broker, args)
            if args.only != "stock":
                results[n]["ours"] = ours_run(n, owners, work, broker, args)
    finally:
        PeriodicTask.objects.update(enabled=False)
        PeriodicTask.objects.filter(pk__in=enabled).update(enabled=True)
        PeriodicTasks.update_changed()
        if not args.profile:
            shutil.rmtree(work, ignore_errors=True)
    print(f"publish lateness (arrival at a consumer - due minute), {args.minutes} boundaries")
    print(f"{'N':>7}  {'scheduler':<6} {'p50':>8} {'p99':>8}  sent in time  up after")
    for n, sides in results.items():
        for side, r in sides.items():
            print(
                f"{n:>7}  {side:<6} {seconds(r['p50']):>8} {seconds(r['p99']):>8}"
                f"  {r['sent']:>6.1%} of {r['due']:<5}  {r['loaded']:.0f} s"
            )
        if len(sides) == 2:
            stock, ours = sides["stock"]["p99"], sides["ours"]["p99"]
            goal = 0.1 if n <= 1_000 else 0.5 if n >= 100_000 else None
            verdict = "" if goal is None else f"   goal ours <= {goal} s: "
            if goal is not None:
                verdict += "OK" if ours <= goal else "MISSED"
            ratio = "0 (stock sent < 99 % in time)" if math.isinf(stock) else f"{ours / stock:.2f}"
            print(f"{n:>7}  p99 ours / stock {ratio}{verdict}")
    if args.profile:
        print(f"beat stacks at the end and logs: {work}")


if __name__ == "__main__":
    main()
