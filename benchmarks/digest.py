"""Daily digests at scale: N users due in the same hour, planned, rendered and delivered by
the real processes to a local SMTP server; against raw smtplib sending the same messages.

Fills PostgreSQL with N users (bulk INSERT … SELECT: default 1,000,000) who want the digest
at the hour that has just begun in their zone, three tasks each (one overdue, one due later
today, one completed yesterday). Then a real beat (DatabaseScheduler: the digest sweep
every minute, the notifications publisher every second) and a real worker (prefork, the
Procfile's queues) run as their own processes, and an aiosmtpd server here counts what
arrives. The clock runs from the processes' start until the server has all N. Prints
  rate      users/s end to end (goal >= 280/s: 1M in under an hour)
  ratio     that rate / raw smtplib sending the same rendered messages over one connection
  RSS       the peak resident memory of every process (VmHWM; goal < 200 MB each)
  re-run    digests queued and messages received when the sweep runs again (goal 0)

    .venv/bin/python benchmarks/digest.py --users 20000

Uses its own database (bench_digest, created if missing) and Redis db 9 unless
DATABASE_URL / REDIS_URL say otherwise: it empties both.
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
import smtplib
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from taskplatform.testing import free_port, wait_for

# zones a quarter of an hour apart: one of them is always at most 15 minutes into its hour
ZONES = ["UTC", "Asia/Kathmandu", "Asia/Kolkata", "Australia/Eucla"]
SENDER = "bench@localhost"


class Sink:
    """The SMTP server's handler: counts messages and recipients seen more than once."""

    def __init__(self) -> None:
        self.count = 0
        self.seen: set[str] = set()
        self.duplicates = 0
        self.last_at = 0.0

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.seen:
                self.duplicates += 1
            self.seen.add(rcpt)
        self.count += 1
        self.last_at = time.perf_counter()
        return "250 OK"

    def reset(self) -> None:
        self.count, self.duplicates = 0, 0
        self.seen.clear()


def zone_at_hour_start(now: datetime) -> tuple[str, int]:
    """The zone (of ZONES) whose current local hour began most recently, and that hour."""
    best = min(ZONES, key=lambda name: now.astimezone(ZoneInfo(name)).minute)
    return best, now.astimezone(ZoneInfo(best)).hour


def fill(n: int, zone: str, hour: int) -> None:
    """N verified users wanting the digest at `hour` in `zone`, three tasks each."""
    from django.db import connection

    now = datetime.now(UTC)
    local_today = now.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0)
    statements = [
        "TRUNCATE accounts_user, tasks_task, notifications_notification, "
        "notifications_notificationpreference, audit_auditevent RESTART IDENTITY CASCADE",
        """INSERT INTO accounts_user (password, email, full_name, timezone, is_staff,
               is_active, is_superuser, date_joined, email_verified_at)
           SELECT '!', 'digest' || i || '@bench.example', 'User ' || i, %(zone)s, false,
               true, false, %(now)s, %(now)s FROM generate_series(1, %(n)s) AS i""",
        """INSERT INTO notifications_notificationpreference (user_id, job_created,
               job_succeeded, job_failed, task_due_soon, task_assigned, daily_digest,
               digest_hour, digest_when_empty, created_at, updated_at)
           SELECT id, true, false, true, false, false, true, %(hour)s, false, %(now)s, %(now)s
           FROM accounts_user""",
        """INSERT INTO tasks_task (owner_id, title, description, status, priority, due_at,
               visibility, completed_at, created_at, updated_at)
           SELECT u.id, t.title || ' ' || u.id, '', t.status, 2, t.due_at, 'private',
               t.completed_at, %(now)s, %(now)s
           FROM accounts_user u CROSS JOIN (VALUES
               ('Overdue report', 'todo', %(overdue)s::timestamptz, NULL::timestamptz),
               ('Call the bank', 'in_progress', %(later)s::timestamptz, NULL::timestamptz),
               ('Filed taxes', 'done', NULL::timestamptz, %(yesterday)s::timestamptz)
           ) AS t(title, status, due_at, completed_at)""",
    ]
    params: dict[str, Any] = {
        "n": n,
        "zone": zone,
        "hour": hour,
        "now": now,
        "overdue": now - timedelta(days=2),
        "later": local_today + timedelta(hours=23, minutes=30),
        "yesterday": local_today - timedelta(hours=12),
    }
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
        cursor.execute("VACUUM ANALYZE")


class Processes:
    """Beat and worker as the Procfile starts them; peak RSS of each and of pool children."""

    def __init__(self, work: Path, concurrency: int) -> None:
        self.work, self.concurrency = work, concurrency
        self.procs: dict[str, subprocess.Popen] = {}
        self.peak_kb: dict[str, int] = {}
        self._stop = threading.Event()

    def start(self) -> None:
        base = [sys.executable, "-m", "celery", "-A", "taskplatform"]
        commands = {
            "worker": [
                *base,
                "worker",
                "-Q",
                "default,notifications,maintenance",
                "-c",
                str(self.concurrency),
                "--loglevel",
                "warning",
            ],
            "beat": [*base, "beat", "--loglevel", "warning", "-s", str(self.work / "beat")],
        }
        for name, command in commands.items():
            log = (self.work / f"{name}.log").open("w")
            self.procs[name] = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for name, proc in list(self.procs.items()):
                self._record(name, proc.pid)
                for index, child in enumerate(children(proc.pid)):
                    self._record(f"{name} pool {index + 1}", child)

    def _record(self, name: str, pid: int) -> None:
        kb = peak_rss_kb(pid)
        if kb:
            self.peak_kb[name] = max(self.peak_kb.get(name, 0), kb)

    def stop(self) -> None:
        self._stop.set()
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def raw_smtplib(port: int, sink: Sink, limit: int) -> tuple[float, int]:
    """The same rendered digests (their stored subject, text and HTML), built into bytes
    beforehand, sent over one connection: messages per second."""
    from django.core.mail import EmailMultiAlternatives

    from notifications.models import Notification

    built = []
    rows = Notification.objects.filter(kind="daily_digest").order_by("id")[:limit]
    for row in rows.iterator():
        message = EmailMultiAlternatives(row.subject, row.body_text, SENDER, [row.to_email])
        message.attach_alternative(row.body_html, "text/html")
        built.append((row.to_email, message.message().as_bytes(linesep="\r\n")))
    sink.reset()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for to, data in built:
            client.sendmail(SENDER, [to], data)
    assert wait_for(lambda: sink.count == len(built), 60)
    return len(built) / (time.perf_counter() - started), len(built)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (2)")
    args = parser.parse_args()
    n = args.users
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_digest")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    work = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "VAR_DIR": str(work),
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DEFAULT_FROM_EMAIL": SENDER,
        }
    )
    database_create(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    import redis
    from aiosmtpd.controller import Controller
    from django.db.models import Max, Min
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from digests.planning import digests_plan
    from notifications.models import Notification

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    wanted = ["digests.plan", "notifications.publish", "notifications.sweep"]
    PeriodicTask.objects.exclude(task__in=wanted).update(enabled=False)
    PeriodicTask.objects.filter(task__in=wanted).update(enabled=True, last_run_at=None)
    PeriodicTasks.update_changed()

    zone, hour = zone_at_hour_start(datetime.now(UTC))
    started = time.perf_counter()
    fill(n, zone, hour)
    print(
        f"filled {n} users ({zone}, digest hour {hour}:00) in {time.perf_counter() - started:.0f} s"
    )

    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    processes = Processes(work, args.concurrency)
    try:
        started = time.perf_counter()
        processes.start()
        planned_at, ticks = None, 0
        while sink.count < n:
            time.sleep(1)
            ticks += 1
            # counting a million rows costs PostgreSQL time: every 5 s, until all are there
            if planned_at is None and ticks % 5 == 0 and Notification.objects.count() >= n:
                planned_at = time.perf_counter() - started
            assert all(p.poll() is None for p in processes.procs.values()), "a process died"
            assert time.perf_counter() - started < 4 * 3600, f"only {sink.count} of {n} arrived"
        elapsed = sink.last_at - started
        time.sleep(3)  # anything sent twice would arrive now
        first_duplicates = sink.duplicates
        digests = Notification.objects.filter(kind="daily_digest")
        sent = digests.filter(status="sent").count()
        span = digests.aggregate(first=Min("created_at"), last=Max("sent_at"))
        pipeline = (span["last"] - span["first"]).total_seconds()
        # the re-run: every user's bookkeeping forgotten, the sweep runs again in its hour
        from notifications.models import NotificationPreference

        NotificationPreference.objects.update(digest_due_at=None)
        received_before = sink.count
        again = digests_plan()
        time.sleep(5)
        rerun_received = sink.count - received_before
    finally:
        processes.stop()
    try:
        raw_rate, raw_n = raw_smtplib(port, sink, min(n, 20000))
    finally:
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)

    rate = n / pipeline
    print(f"users                {n} due in the same hour, 3 tasks each")
    print(f"processes            worker prefork x{args.concurrency} + beat, PostgreSQL + Redis")
    print(f"all rows planned     {planned_at or 0:8.1f} s after the processes started")
    print(f"all delivered        {elapsed:8.1f} s after the processes started")
    print(
        f"first queued -> last sent {pipeline:6.1f} s  {rate:6.0f} users/s   goal >= 280/s  "
        f"{'OK' if rate >= 280 else 'MISSED'}  (1M at this rate: {1e6 / rate / 3600:.1f} h)"
    )
    print(
        f"raw smtplib          {raw_rate:8.0f} msg/s  ({raw_n} of the same digests, one connection)"
    )
    print(f"ratio                {rate / raw_rate:8.2f}  (digest pipeline / raw smtplib)")
    for name, kb in sorted(processes.peak_kb.items()):
        mb = kb / 1024
        print(f"peak RSS {name:<12} {mb:8.0f} MB   goal < 200 MB  {'OK' if mb < 200 else 'MISSED'}")
    print(f"sent once            {sent} rows sent, {first_duplicates} duplicate deliveries")
    print(
        f"re-run               {again['queued']} digests queued, "
        f"{rerun_received} messages received (goal 0)"
    )


def database_create(url: str) -> None:
    """CREATE DATABASE <name of `url`> if it doesn't exist."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
