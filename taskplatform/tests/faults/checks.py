"""What every fault test asserts: nothing lost, nothing done twice."""

from __future__ import annotations

import time

from taskplatform.testing import wait_for

REPORT: list[dict] = []
CHECKED: list[tuple[list[str], int]] = []  # every test's emails, and the repeats it allowed


def report(fault: str, *, answers, markers: list[str], stack, fault_ended: float) -> None:
    """One line of the "What survives what" table (printed at the end of the session):
    `last_email_s` is from the end of the fault (time.monotonic()) to the last email."""
    extra = sum(stack.smtp.count(m) - 1 for m in markers)
    REPORT.append(
        {
            "fault": fault,
            "emails": len(markers),
            "lost": sum(stack.smtp.count(m) == 0 for m in markers),
            "duplicates": extra,
            "5xx": sum(n for code, n in answers.codes.items() if code >= 500 and code != 503),
            "503": answers.codes[503],
            "requests": sum(answers.codes.values()),
            "last_email_s": round(max(0.0, stack.smtp.last_arrival(markers) - fault_ended), 1),
        }
    )


def emails_arrive_once(stack, markers: list[str], *, timeout: float, allow_extra: int = 0) -> None:
    """Each marker's email arrives; in all, at most `allow_extra` arrive twice (in flight)."""
    arrived = wait_for(
        lambda: all(stack.smtp.count(m) >= 1 for m in markers), timeout=timeout, interval=0.5
    )
    missing = [m for m in markers if stack.smtp.count(m) == 0]
    assert arrived, f"{len(missing)} of {len(markers)} emails lost: {missing[:5]}\n{stack.logs()}"
    time.sleep(5)  # anything sent twice would be on its way by now
    extra = sum(stack.smtp.count(m) - 1 for m in markers)
    assert extra <= allow_extra, f"{extra} duplicate emails (allowed {allow_extra})"
    CHECKED.append((markers, allow_extra))


def no_late_duplicates(stack) -> None:
    """At the end: wait out the time after which the sweeper frees stale claims, then count
    every email of every test again."""
    time.sleep(int(stack.env["NOTIFICATIONS_SENDING_TIMEOUT_SECONDS"]) + 10)
    for markers, allowed in CHECKED:
        extra = sum(stack.smtp.count(m) - 1 for m in markers)
        assert extra <= allowed, f"late duplicates: {extra} (allowed {allowed}): {markers[:3]}"


def one_succeeded_run_each(stack, job_ids: list[int], *, timeout: float = 60) -> None:
    """Every job ran its slot exactly once, and that run succeeded."""

    def runs() -> dict[int, list[str]]:
        rows = stack.postgres.query(
            "SELECT job_id, array_agg(status ORDER BY id) FROM tasks_jobrun "
            "WHERE job_id = ANY(%s) GROUP BY job_id",
            job_ids,
        )
        return dict(rows)

    assert wait_for(
        lambda: all(runs().get(j) == ["succeeded"] for j in job_ids), timeout=timeout, interval=0.5
    ), {j: s for j, s in runs().items() if s != ["succeeded"]} or "some jobs never ran"


def notifications_settled(stack, emails: list[str], *, timeout: float = 60) -> None:
    """No notification of these users is left queued or sending, and none failed."""

    def open_or_failed() -> list[tuple]:
        return stack.postgres.query(
            "SELECT id, kind, status, last_error FROM notifications_notification "
            "WHERE to_email = ANY(%s) AND status <> 'sent'",
            emails,
        )

    assert wait_for(lambda: not open_or_failed(), timeout=timeout, interval=0.5), open_or_failed()


def live_events_arrive_once(listener, job_ids: list[int], *, timeout: float) -> None:
    """The live client heard each job's run succeed exactly once, and no event twice."""
    heard = wait_for(
        lambda: all(n >= 1 for n in listener.runs_finished(job_ids).values()),
        timeout=timeout,
        interval=0.5,
    )
    counts = listener.runs_finished(job_ids)
    assert heard, f"live events lost: runs not heard of {[j for j, n in counts.items() if not n]}"
    time.sleep(5)  # a second copy would be here by now (the catch-up reads every 2 s)
    counts = listener.runs_finished(job_ids)
    assert all(n == 1 for n in counts.values()), f"run.finished heard twice: {counts}"
    ids = [event["id"] for event in listener.events]
    assert len(ids) == len(set(ids)), "an event was sent twice"
