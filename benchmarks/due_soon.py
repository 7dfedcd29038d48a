"""Due-soon sweep at scale: the sweep against one hand-written INSERT … SELECT, same run.

Seeds 100,000 tasks due within 24 hours (PostgreSQL), then times
  1. the baseline: one raw INSERT … SELECT producing the same notification rows
     (rolled back),
  2. due_soon_reminders_queue() — the ORM-built INSERT … SELECT … ON CONFLICT DO NOTHING
     (notifications_queue_bulk), with handing the rows to the senders after commit,
  3. the sweep again, which must create 0,
and prints seconds and the ratio sweep / baseline (goal <= 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/due_soon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import os
import subprocess
import tempfile
import time

BASELINE = """
INSERT INTO notifications_notification (user_id, to_email, kind, subject, body_text, body_html,
    context, status, attempts, last_error, provider_message_id, claimed_by, idempotency_key,
    next_attempt_at, created_at, updated_at)
SELECT t.owner_id, u.email, 'task_due_soon', 'Due soon: ' || t.title, '', '',
    jsonb_build_object('task_id', t.id, 'due_at', t.due_at), 'queued', 0, '', '', '',
    'task_due_soon:' || t.id || ':' || t.due_at::text, now(), now(), now()
FROM tasks_task t JOIN accounts_user u ON u.id = t.owner_id
WHERE t.due_at > now() AND t.due_at <= now() + interval '24 hours' AND t.status <> 'done'
  AND u.is_active
  AND NOT EXISTS (SELECT 1 FROM notifications_notificationpreference p
                  WHERE p.user_id = t.owner_id AND NOT p.task_due_soon)
ON CONFLICT (idempotency_key) DO NOTHING
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "VAR_DIR": tempfile.mkdtemp(prefix="bench-due-soon-"),
        }
    )
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connection, transaction

    from notifications.models import Notification
    from tasks.due_soon import due_soon_reminders_queue

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_notification")
        cursor.execute("DELETE FROM tasks_task")
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE 'due-bench-%%'")
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, timezone,"
            " is_staff, is_active, date_joined) SELECT '!', false, 'due-bench-' || g ||"
            " '@example.com', '', 'UTC', false, true, now() FROM generate_series(1, %s) g",
            [args.users],
        )
        cursor.execute(
            "INSERT INTO tasks_task (owner_id, title, description, status, priority, due_at,"
            " visibility, created_at, updated_at) SELECT u.id, 'Task ' || g, '', 'todo', 2,"
            " now() + (g %% 1380 + 1) * interval '1 minute', 'private', now(), now()"
            " FROM generate_series(1, %s) g JOIN (SELECT id, row_number() OVER () - 1 AS n"
            " FROM accounts_user WHERE email LIKE 'due-bench-%%') u ON u.n = g %% %s",
            [args.tasks, args.users],
        )
        cursor.execute("ANALYZE")

    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BASELINE)
            baseline_rows = cursor.rowcount
        baseline = time.perf_counter() - started
        transaction.set_rollback(True)

    started = time.perf_counter()
    created = due_soon_reminders_queue()
    sweep = time.perf_counter() - started
    started = time.perf_counter()
    again = due_soon_reminders_queue()
    second = time.perf_counter() - started
    total = Notification.objects.filter(kind="task_due_soon").count()

    print(f"tasks due within 24 h   {args.tasks} ({args.users} owners), PostgreSQL")
    print(f"raw INSERT … SELECT     {baseline:7.2f} s   {baseline_rows} rows")
    print(f"the sweep (bulk queue)  {sweep:7.2f} s   {created} rows")
    ratio = sweep / baseline
    print(f"ratio                   {ratio:7.2f}   goal <= 3  {'OK' if ratio <= 3 else 'MISSED'}")
    print(
        f"second sweep            {second:7.2f} s   {again} rows created (goal 0)  "
        f"{'OK' if again == 0 else 'MISSED'}; {total} reminders in all"
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_notification")
        cursor.execute("DELETE FROM tasks_task")


if __name__ == "__main__":
    main()
