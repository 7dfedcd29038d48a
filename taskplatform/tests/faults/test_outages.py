"""Redis, PostgreSQL and the SMTP server go away under load and come back."""

from __future__ import annotations

import os
import time

from .checks import (
    emails_arrive_once,
    live_events_arrive_once,
    notifications_settled,
    one_succeeded_run_each,
    report,
)
from .client import LiveListener, Load, User

REDIS_DOWN_SECONDS = float(os.environ.get("FAULTS_REDIS_DOWN_SECONDS", "60"))
POSTGRES_DOWN_SECONDS = float(os.environ.get("FAULTS_POSTGRES_DOWN_SECONDS", "5"))
SMTP_DOWN_SECONDS = float(os.environ.get("FAULTS_SMTP_DOWN_SECONDS", "300"))


def test_redis_down_the_api_keeps_working_and_nothing_is_lost(healthy, answers):
    """Cache, rate-limit store, broker and live pub/sub gone for a minute: the API answers
    (limits fail open), work piles up in the database outbox and goes out once when Redis is
    back, and a live client connected throughout hears of every run once (the pushes that
    failed are found by the live process's catch-up read of the table)."""
    stack = healthy
    user = User(stack.base, answers, tag="redis").sign_up()
    markers = [f"redis-{i}-{user.email}" for i in range(10)]
    with LiveListener(user, stack.live_url) as listener:
        job_ids = [user.reminder(m, in_seconds=5 + i) for i, m in enumerate(markers)]
        with Load(user) as load:
            stack.redis.stop()
            started = time.monotonic()
            created_before = load.created
            newcomer = User(stack.base, answers, tag="redis-newcomer").sign_up()  # welcome
            late = [f"redis-late-{i}-{user.email}" for i in range(5)]
            job_ids += [user.reminder(m, in_seconds=10) for m in late]
            time.sleep(max(0.0, REDIS_DOWN_SECONDS - (time.monotonic() - started)))
            assert not any(stack.smtp.count(m) for m in markers + late)  # nothing could run
            created_during = load.created - created_before
            stack.redis.start()
            back = time.monotonic()
        assert created_during > 0  # the API took work while Redis was down
        one_succeeded_run_each(stack, job_ids, timeout=120)
        everything = [*markers, *late, f"welcome:{newcomer.email}"]
        emails_arrive_once(stack, everything, timeout=120)
        live_events_arrive_once(listener, job_ids, timeout=60)
    report(
        f"Redis stopped {REDIS_DOWN_SECONDS:.0f} s under load",
        answers=answers,
        markers=everything,
        stack=stack,
        fault_ended=back,
    )
    notifications_settled(stack, [user.email, newcomer.email])
    assert all(stack.alive(name) for name in stack.PROCESSES)
    stack.wait_ready()


def test_postgres_restarted_under_load_gives_503s_not_500s_and_workers_recover(healthy, answers):
    stack = healthy
    user = User(stack.base, answers, tag="pg").sign_up()
    before = [f"pg-before-{i}-{user.email}" for i in range(8)]
    job_ids = [user.reminder(m, in_seconds=3 + i) for i, m in enumerate(before)]
    with Load(user):
        time.sleep(2)
        stack.postgres.stop("fast")  # connections refused...
        time.sleep(POSTGRES_DOWN_SECONDS)
        stack.postgres.start()  # ...then back
        back = time.monotonic()
        time.sleep(3)
    # the same worker, beat and web processes (never restarted) carry on
    after = [f"pg-after-{i}-{user.email}" for i in range(8)]
    job_ids += [user.reminder(m, in_seconds=2) for m in after]
    one_succeeded_run_each(stack, job_ids, timeout=120)
    emails_arrive_once(stack, before + after, timeout=60)
    notifications_settled(stack, [user.email])
    assert answers.codes[503] > 0  # the outage was seen, and answered as one
    report(
        f"PostgreSQL down {POSTGRES_DOWN_SECONDS:.0f} s under load",
        answers=answers,
        markers=before + after,
        stack=stack,
        fault_ended=back,
    )
    assert all(stack.alive(n) for n in ("web", "worker", "beat"))


def test_smtp_down_for_minutes_loses_and_repeats_nothing(healthy, answers):
    stack = healthy
    user = User(stack.base, answers, tag="smtp").sign_up()
    emails_arrive_once(stack, [f"welcome:{user.email}"], timeout=30)  # before the outage
    stack.smtp.stop()
    markers = [f"smtp-{i}-{user.email}" for i in range(10)]
    job_ids = [user.reminder(m, in_seconds=2 + i) for i, m in enumerate(markers)]
    time.sleep(SMTP_DOWN_SECONDS)
    failed = stack.postgres.scalar(
        "SELECT count(*) FROM notifications_notification WHERE to_email = %s AND status = 'failed'",
        user.email,
    )
    assert failed == 0  # waiting for the server spends no attempts
    stack.smtp.start()
    back = time.monotonic()
    one_succeeded_run_each(stack, job_ids)
    emails_arrive_once(stack, markers, timeout=60)
    notifications_settled(stack, [user.email])
    report(
        f"SMTP down {SMTP_DOWN_SECONDS:.0f} s",
        answers=answers,
        markers=markers,
        stack=stack,
        fault_ended=back,
    )
