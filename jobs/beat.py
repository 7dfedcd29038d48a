"""Beat with the jobs dispatcher inside: due jobs become runs at their due time, not at the
next tick.

Beat's own loop asks the scheduler how long to sleep; this scheduler answers "until there is
dispatching to do" (two indexed lookups: JOBS_DISPATCH_LEAD_SECONDS before the earliest
`next_run_at` of an active job, or the `scheduled_for` of a run waiting for its message).
Jobs are claimed and their runs written that little ahead of their slot — 1,667 jobs due
at one minute take ~0.4 s to claim — and at the slot itself only the messages are left to
send: a run due at 09:00:00.000 reaches the broker a few milliseconds after, from this
process. The answer is looked up again every JOBS_DISPATCH_POLL_SECONDS, which bounds how
late a job created or rescheduled to fall due sooner than that can be.

Two beats at once (a mistake, or a restart overlapping) both dispatch: the claims
(`SELECT … FOR UPDATE SKIP LOCKED`) share the work and the unique slot keeps each run
single. A database or broker outage is logged and retried after a second; the beat process
keeps running (its heartbeat shows it alive).
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from types import ModuleType

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from taskplatform.beat import HeartbeatScheduler

from . import dispatch

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


@functools.cache
def _sources() -> list[ModuleType]:
    """Other work due at exact times (BEAT_DUE_SOURCES: modules with `due_next()` and
    `due_run(now=)`, e.g. meetings.reminders), woken for the same way as jobs."""
    return [importlib.import_module(name) for name in settings.BEAT_DUE_SOURCES]


class DispatchingScheduler(HeartbeatScheduler):
    _due_at = 0.0  # epoch seconds: when to dispatch next (0: at once)
    _looked_at = float("-inf")  # monotonic: when the due time was last read

    def tick(self, *args, **kwargs):
        dispatch_in = self._dispatch()  # first: a due job must not wait behind beat's tick
        return min(super().tick(*args, **kwargs), dispatch_in)

    def _dispatch(self) -> float:
        """Dispatch what is due, then return the seconds until the next due time (at most
        the poll interval)."""
        poll = settings.JOBS_DISPATCH_POLL_SECONDS
        now = time.time()
        due = now >= self._due_at
        if due or time.monotonic() - self._looked_at >= poll:
            try:
                lead = settings.JOBS_DISPATCH_LEAD_SECONDS
                dispatched = dispatch.jobs_dispatch_due(lead=lead) if due else 0
                times = [dispatch.next_due(lead=lead)]
                for source in _sources():
                    dispatched += source.due_run(now=timezone.now()) if due else 0
                    times.append(source.due_next())
                next_due = min((t for t in times if t is not None), default=None)
            except Exception:  # the database is down, say: beat's other work goes on
                log.exception("jobs dispatcher failed; trying again in 1 s")
                close_old_connections()
                self._due_at = now + RETRY_SECONDS
                return RETRY_SECONDS
            self._looked_at = time.monotonic()
            self._due_at = next_due.timestamp() if next_due else now + poll
            if due and not dispatched and self._due_at <= now:
                # nothing could be done about what is due (the broker refuses it): no spin
                self._due_at = now + RETRY_SECONDS
        return max(0.0, min(self._due_at - time.time(), poll))
