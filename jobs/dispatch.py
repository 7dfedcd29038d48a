"""The dispatcher: turns due jobs into runs and hands runs to the broker.

It runs inside beat (jobs/beat.py), woken at the next due time (`next_due`). Each pass
claims due jobs in batches with `SELECT … FOR UPDATE SKIP LOCKED` (so dispatchers running at
once share the work instead of doubling it), creates one run per job for its due slot
(unique per (job, slot)), advances `next_run_at` past now — missed slots collapse into that
one catch-up run — and after commit publishes every queued run not yet sent. The database
holds time: a retry waits as a queued run with a future `scheduled_for`, never as a broker
ETA message.

Messages go out through taskplatform.outbox, by task name: this module imports neither the
runner nor the Celery tasks (the sweeper, jobs/sweeper.py, joins the two).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from jobs.models import Job, JobRun
from taskplatform import outbox

from . import bulk_writes, kinds
from .schedules import from_job, next_after

log = logging.getLogger(__name__)


def jobs_dispatch_due(
    *, now: datetime | None = None, batch: int | None = None, lead: float = 0
) -> int:
    """Create runs for every job due at `now`, or within `lead` seconds after it (beat
    prepares a slot's runs before its time, so that at the time only their messages are
    left to send); returns how many jobs were dispatched. Runs due by `now` are published;
    the rest wait for their time in the database, like retries."""
    now = now or timezone.now()
    horizon = now + timedelta(seconds=lead)
    batch = batch or settings.JOBS_DISPATCH_BATCH
    total = 0
    while True:
        claimed, created = _dispatch_batch(now, horizon, batch)
        total += claimed
        _send(created)  # committed: the first runs go out while the next batch is claimed
        if claimed < batch:
            break
    # retries whose time came, runs prepared ahead, runs the broker refused on a past pass
    job_runs_publish_due(now=now)
    return total


@transaction.atomic
def _dispatch_batch(
    now: datetime, horizon: datetime, batch: int
) -> tuple[int, list[tuple[int, str]]]:
    """Claim up to `batch` jobs due by `horizon`, create their runs and move them on;
    returns how many were claimed and the new runs due by `now` (id, kind), marked for
    publishing."""
    jobs = list(
        Job.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Job.Status.ACTIVE, next_run_at__lte=horizon)
        .select_related("crontab", "interval", "clocked")
        .defer("name", "params", "notify_on")  # (JSON decoded for nothing)
        .order_by("next_run_at")[:batch]
    )
    slots = []
    # jobs on the same schedule, zone and slot move on to the same time: worked out once
    # (1,667 jobs due at one minute are often a handful of cron expressions)
    nexts: dict[tuple, datetime | None] = {}
    for job in jobs:
        slot = job.next_run_at
        if slot is None:  # (not due: the query asked for next_run_at <= now)
            continue
        try:
            key = (from_job(job), job.timezone, slot)
            if key not in nexts:
                nexts[key] = next_after(key[0], ZoneInfo(job.timezone), horizon, anchor=slot)
            job.next_run_at = nexts[key]
        except Exception as exc:  # e.g. a schedule row an operator broke: not everyone's pass
            _set_aside(job, exc)
            continue
        slots.append((job.pk, slot))
        if job.next_run_at is None:
            job.status = Job.Status.COMPLETED
        job.updated_at = now
    # the unique (job, scheduled_for) constraint is the last word on "a slot runs once"
    created = bulk_writes.runs_create(slots, now=now)
    bulk_writes.jobs_write(jobs)
    kind_of = {job.pk: job.kind for job in jobs}
    return len(jobs), [(pk, kind_of[job_id]) for pk, job_id in created]


def _set_aside(job: Job, exc: Exception) -> None:
    """Pause a job whose schedule can't be evaluated, so it can't stall the dispatcher."""
    log.exception("job %s: schedule can't be evaluated; pausing it", job.pk)
    job.status = Job.Status.PAUSED
    job.updated_at = timezone.now()
    audit_record(
        action="job.auto_paused",
        target=job,
        details={
            "reason": "schedule can't be evaluated",
            "error": f"{exc.__class__.__name__}: {exc}",
        },
    )


def job_runs_publish_due(
    *, now: datetime | None = None, limit: int = 5000, ids: list[int] | None = None
) -> int:
    """Send a message for each queued run that is due and has none yet (the outbox step).

    Rows are marked `enqueued_at` before publishing; if the broker refuses, the marks are
    taken back so the next tick tries again. A message lost after that (a broker that
    forgot it) is re-sent by the sweeper; the worker's claim makes duplicates harmless.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = JobRun.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=JobRun.Status.QUEUED, enqueued_at__isnull=True, scheduled_for__lte=now
        )
        if ids is not None:  # just these (a run-now request doesn't send the backlog)
            pending = pending.filter(pk__in=ids)
        rows = list(pending.order_by("scheduled_for", "id").values_list("pk", "job__kind")[:limit])
        if not rows:
            return 0
        JobRun.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
    return _send(rows)


def _send(rows: list[tuple[int, str]]) -> int:
    """Publish runs (id, kind) marked `enqueued_at`; the marks of those the broker refused
    are taken back, for the next pass. Returns how many went out."""
    sent = 0
    for kind, run_ids in _messages(rows):
        if not _publish(run_ids, kind):
            unsent = [pk for pk, _ in rows][sent:]
            JobRun.objects.filter(pk__in=unsent, status=JobRun.Status.QUEUED).update(
                enqueued_at=None
            )
            return sent
        sent += len(run_ids)
    return len(rows)


def _messages(rows: list[tuple[int, str]]) -> list[tuple[str, list[int]]]:
    """The runs in messages, in order: up to JOBS_RUNS_PER_MESSAGE consecutive runs of one
    kind share one where the kind allows it (`kinds.batchable`: a reminder takes
    milliseconds), so a thousand reminders due together are fifty messages, not a thousand
    — the worker's per-message cost was half of each run's."""
    most = settings.JOBS_RUNS_PER_MESSAGE
    messages: list[tuple[str, list[int]]] = []
    for pk, kind in rows:
        last = messages[-1] if messages else None
        if last and last[0] == kind and len(last[1]) < most and kinds.batchable(kind):
            last[1].append(pk)
        else:
            messages.append((kind, [pk]))
    return messages


def next_due(*, lead: float = 0) -> datetime | None:
    """When the dispatcher next has work: `lead` seconds before the earliest due active job,
    or the earliest queued run still waiting for its message (prepared ahead, a retry, a
    run the broker refused). Two index-only lookups (job_due_idx, jobrun_unsent_idx)."""
    job = Job.objects.filter(status=Job.Status.ACTIVE, next_run_at__isnull=False)
    run = JobRun.objects.filter(status=JobRun.Status.QUEUED, enqueued_at__isnull=True)
    job_due = job.order_by("next_run_at").values_list("next_run_at", flat=True).first()
    times = [
        job_due - timedelta(seconds=lead) if job_due else None,
        run.order_by("scheduled_for").values_list("scheduled_for", flat=True).first(),
    ]
    return min((t for t in times if t is not None), default=None)


def _publish(run_ids: list[int], kind: str) -> bool:
    """The message carries its kind's time limits (a worker enforces them), for each run it
    names; a single run goes as its id alone."""
    count = len(run_ids)
    return outbox.publish(
        "jobs.run",
        (run_ids if count > 1 else run_ids[0],),
        queue="default",
        soft_time_limit=kinds.time_limit(kind) * count,
        time_limit=kinds.hard_time_limit(kind) * count,
    )
