"""kill -9 of the worker's pool processes mid-run and mid-email-batch."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from taskplatform.testing import wait_for

from .checks import emails_arrive_once, notifications_settled, one_succeeded_run_each, report
from .client import User


def test_worker_killed_mid_run_loses_and_repeats_nothing(healthy, answers):
    stack = healthy
    user = User(stack.base, answers, tag="killrun").sign_up()
    markers = [f"killrun-{i}-{user.email}" for i in range(12)]
    # six due at the same instant: one message, run together in one transaction; then six a
    # little apart: a message each, run one at a time (claimed, then worked)
    together_at = datetime.now(UTC) + timedelta(seconds=4)
    together = [user.reminder(m, at=together_at) for m in markers[:6]]
    alone = [
        user.reminder(m, at=together_at + timedelta(seconds=0.5 + 0.3 * i))
        for i, m in enumerate(markers[6:])
    ]
    job_ids = together + alone
    # a run records its outcome in the audit log as its last step: while this lock is held,
    # runs that started wait there, mid-way (senders and sweepers don't touch that table)
    with stack.postgres_lock("audit_auditevent"):
        assert wait_for(
            lambda: (
                stack.postgres.scalar(
                    "SELECT count(*) FROM tasks_jobrun WHERE job_id = ANY(%s) AND status='running'",
                    alone,
                )
                >= 1
                and stack.postgres.scalar(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'audit_auditevent'::regclass"
                )
                >= 2
            ),
            timeout=60,
        ), stack.logs()
        pool = stack.worker_children()  # both pool processes wait: the message of six, one alone
        for pid in pool:
            stack.kill(pid)
        killed_at = time.monotonic()
    # the worker replaces its pool processes and the requeued messages take their runs over
    one_succeeded_run_each(stack, job_ids, timeout=90)
    taken_over = stack.postgres.scalar(
        "SELECT count(*) FROM tasks_jobrun WHERE job_id = ANY(%s) AND deliveries > 1", alone
    )
    assert taken_over >= 1  # the killed run was run again by its own redelivered message
    # the six ran in a transaction the kill rolled back: the redelivered message ran them once
    assert stack.postgres.scalar(
        "SELECT count(*) FROM tasks_jobrun WHERE job_id = ANY(%s) AND deliveries = 1", together
    ) == len(together)
    emails_arrive_once(stack, markers, timeout=60)
    notifications_settled(stack, [user.email])
    assert stack.alive("worker") and set(stack.worker_children()).isdisjoint(pool)
    report(
        "worker pool killed -9 mid-run",
        answers=answers,
        markers=markers,
        stack=stack,
        fault_ended=killed_at,
    )


def test_worker_killed_mid_email_batch_repeats_at_most_the_one_in_flight(healthy, answers):
    stack = healthy
    stack.smtp.recorder.delay = 0.1  # a slow server: the batch is in flight for seconds
    user = User(stack.base, answers, tag="killmail").sign_up()
    markers = [f"killmail-{i}-{user.email}" for i in range(40)]
    job_ids = [user.reminder(m, in_seconds=3) for m in markers]
    assert wait_for(lambda: sum(stack.smtp.count(m) for m in markers) >= 8, timeout=60)
    pool = stack.worker_children()
    for pid in pool:
        stack.kill(pid)
    killed_at = time.monotonic()
    before_the_kill = sum(stack.smtp.count(m) for m in markers)
    assert before_the_kill < len(markers)  # the batch was in flight
    stack.smtp.recorder.delay = 0.0
    emails_arrive_once(stack, markers, timeout=120, allow_extra=len(pool))
    one_succeeded_run_each(stack, job_ids)
    notifications_settled(stack, [user.email])
    report(
        "worker pool killed -9 mid-email-batch",
        answers=answers,
        markers=markers,
        stack=stack,
        fault_ended=killed_at,
    )
