"""Email delivery rate: the notifications pipeline against raw smtplib, same run.

A local aiosmtpd server counts messages. The baseline sends N messages with smtplib over
one connection. Then N notifications are created with notification_create() (rendered,
stored, handed to the senders after each commit) and a real Celery worker (prefork, 2
processes) delivers them: the clock runs from the worker being ready until the server has
received all N. Prints both rates and the ratio (goal >= 0.5), and checks every
notification was sent exactly once.

    .venv/bin/python benchmarks/email_delivery.py [--count 2000]

Uses REDIS_URL as the broker when set (else the file broker) and DATABASE_URL when set
(else SQLite), in a temporary folder. Give it a Redis database of its own (e.g.
redis://127.0.0.1:6379/14): it empties the Celery queues there before each round.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import os
import shutil
import smtplib
import statistics
import subprocess
import tempfile
import threading
import time

from taskplatform.testing import free_port, wait_for


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.count

    work = Path(tempfile.mkdtemp(prefix="bench-email-"))
    port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "VAR_DIR": str(work),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "PYTHONPATH": str(ROOT),
            # one user is sent all N: the per-user hourly limit would hold most back
            "NOTIFICATIONS_PER_USER_PER_HOUR": "0",
        }
    )
    from aiosmtpd.controller import Controller

    counter = Counter()
    smtp = Controller(counter, hostname="127.0.0.1", port=port)
    smtp.start()
    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        import django

        django.setup()
        from django.core.mail import EmailMultiAlternatives
        from django.db import transaction
        from django.utils import timezone

        from accounts.models import User
        from notifications.kinds import Kind
        from notifications.models import Notification
        from notifications.rendering import render
        from notifications.services import notification_create
        from taskplatform.celery import app as celery_app

        user, _ = User.objects.get_or_create(
            email="bench@example.com", defaults={"email_verified_at": timezone.now()}
        )
        rendered = render(Kind.REMINDER, {"message": "benchmark"}, user=user)

        def build(i: int) -> bytes:
            message = EmailMultiAlternatives(
                rendered.subject, rendered.text, "bench@localhost", [f"r{i}@example.com"]
            )
            message.attach_alternative(rendered.html, "text/html")
            return message.message().as_bytes(linesep="\r\n")

        def raw_smtplib(*, prebuilt: bool) -> float:
            """The same messages over one connection; optionally built inside the timing."""
            counter.count = 0
            raw = [build(i) for i in range(n)] if prebuilt else []
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as client:
                for i in range(n):
                    data = raw[i] if prebuilt else build(i)
                    client.sendmail("bench@localhost", [f"r{i}@example.com"], data)
            assert wait_for(lambda: counter.count == n, 60)
            return n / (time.perf_counter() - started)

        def pipeline() -> tuple[float, float]:
            nonlocal worker
            celery_app.control.purge()  # start from empty queues (a round left nothing behind)
            Notification.objects.all().delete()
            counter.count = 0
            counter.recipients.clear()
            started = time.perf_counter()
            for i in range(n):
                with transaction.atomic():
                    notification_create(
                        user=user,
                        kind=Kind.REMINDER,
                        context={"message": "benchmark"},
                        to_email=f"n{i}@example.com",
                    )
            create_rate = n / (time.perf_counter() - started)
            ready = threading.Event()
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "taskplatform",
                    "worker",
                    "-Q",
                    "notifications,default",
                    "-c",
                    "2",
                    "-l",
                    "INFO",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

            def watch(stream):
                for line in stream:
                    if os.environ.get("BENCH_VERBOSE"):
                        print(line.rstrip()[:200])
                    if " ready." in line:
                        ready.set()

            threading.Thread(target=watch, args=(worker.stdout,), daemon=True).start()
            assert ready.wait(60), "worker did not start"
            started = time.perf_counter()
            assert wait_for(lambda: counter.count >= n, 600), f"only {counter.count} arrived"
            rate = n / (time.perf_counter() - started)
            time.sleep(1)  # anything sent twice would arrive now
            stop(worker)
            worker = None
            duplicates = len(counter.recipients) - len(set(counter.recipients))
            sent = Notification.objects.filter(status="sent").count()
            assert sent == n and duplicates == 0, f"sent={sent} duplicates={duplicates}"
            return rate, create_rate

        raw_rates, built_rates, rates, create_rates = [], [], [], []
        for _ in range(args.rounds):
            raw_rates.append(raw_smtplib(prebuilt=True))
            built_rates.append(raw_smtplib(prebuilt=False))
            rate, create_rate = pipeline()
            rates.append(rate)
            create_rates.append(create_rate)
    finally:
        if worker is not None:
            stop(worker)
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)

    raw_rate, built_rate = statistics.median(raw_rates), statistics.median(built_rates)
    pipeline_rate = statistics.median(rates)
    ratio = pipeline_rate / raw_rate
    print(
        f"messages             {n} (reminder, text + HTML) x {args.rounds} rounds (median), "
        "aiosmtpd on 127.0.0.1"
    )
    print(f"raw smtplib          {raw_rate:8.0f} msg/s   (one connection, bytes built beforehand)")
    print(f"  + building them    {built_rate:8.0f} msg/s   (Django's mail API inside the timing)")
    print(f"notifications worker {pipeline_rate:8.0f} msg/s   (prefork x2: claims, SMTP, DB)")
    print(
        f"ratio                {ratio:8.2f}   goal >= 0.5  {'OK' if ratio >= 0.5 else 'MISSED'}"
        f"   ({pipeline_rate / built_rate:.2f} against the second baseline)"
    )
    print(
        f"creating them        {statistics.median(create_rates):8.0f} notification_create()/s "
        "(render + row + publish)"
    )
    print(f"exactly once         every round: {n} sent, {n} received, 0 duplicates")


if __name__ == "__main__":
    main()
