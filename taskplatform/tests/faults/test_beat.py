"""Beat killed (and restarted), then two beats at once: every slot runs once."""

from __future__ import annotations

import time

from .checks import emails_arrive_once, notifications_settled, one_succeeded_run_each, report
from .client import User


def test_beat_killed_then_two_beats_at_once_run_every_slot_once(healthy, answers):
    stack = healthy
    user = User(stack.base, answers, tag="beat").sign_up()
    markers = [f"beat-{i}-{user.email}" for i in range(24)]
    job_ids = [user.reminder(m, in_seconds=2 + i) for i, m in enumerate(markers)]
    time.sleep(5)
    stack.kill(stack.processes["beat"].pid)  # kill -9 mid-dispatch
    stack.restarted_on_purpose.add("beat")
    time.sleep(3)
    stack.start_process("beat")  # what the orchestrator does
    restarted = time.monotonic()
    time.sleep(3)
    second = stack.start_extra_beat()  # and a second beat by mistake, for the rest
    try:
        one_succeeded_run_each(stack, job_ids, timeout=90)
        emails_arrive_once(stack, markers, timeout=60)
        notifications_settled(stack, [user.email])
        report(
            "beat killed -9, restarted, then 2 beats",
            answers=answers,
            markers=markers,
            stack=stack,
            fault_ended=restarted,
        )
        assert second.poll() is None
    finally:
        stack.kill(second.pid)
        second.wait(timeout=10)
