"""The dispatcher: turns due jobs into runs and hands runs to the broker.

Beat fires `jobs.dispatch` every second. Each tick claims due jobs in batches with
`SELECT … FOR UPDATE SKIP LOCKED` (so dispatchers running at once share the work instead
of doubling it), creates one run per job for its due slot (unique per (job, slot)),
advances `next_run_at` past now — missed slots collapse into that one catch-up run — and
after commit publishes every queued run not yet sent. The database holds time: a retry
waits as a queued run with a future `scheduled_for`, never as a broker ETA message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import record
from jobs.models import Job, JobRun

from . import kinds
from .schedules import from_job, next_after

log = logging.getLogger(__name__)
RUN_TIME_LIMIT_GRACE = 30  # seconds between a run's soft and hard time limit


def dispatch_due(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Create runs for every job due at `now`; returns how many jobs were dispatched."""
    now = now or timezone.now()
    batch = batch or settings.JOBS_DISPATCH_BATCH
    total = 0
    while True:
        claimed = _dispatch_batch(now, batch)
        total += claimed
        if claimed:
            publish_pending(now=now)  # the first runs go out while the next batch is claimed
        if claimed < batch:
            break
    # retries whose time came, and runs the broker refused on an earlier tick
    publish_pending(now=now)
    return total


@transaction.atomic
def _dispatch_batch(now: datetime, batch: int) -> int:
    jobs = list(
        Job.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Job.Status.ACTIVE, next_run_at__lte=now)
        .select_related("crontab", "interval", "clocked")
        .order_by("next_run_at")[:batch]
    )
    if not jobs:
        return 0
    runs = []
    for job in jobs:
        slot = job.next_run_at
        try:
            job.next_run_at = next_after(from_job(job), ZoneInfo(job.timezone), now, anchor=slot)
        except Exception as exc:  # e.g. a schedule row an operator broke: not everyone's tick
            _set_aside(job, exc)
            continue
        runs.append(JobRun(job=job, trigger=JobRun.Trigger.SCHEDULE, scheduled_for=slot))
        if job.next_run_at is None:
            job.status = Job.Status.COMPLETED
        job.updated_at = now
    # the unique (job, scheduled_for) constraint is the last word on "a slot runs once"
    JobRun.objects.bulk_create(runs, ignore_conflicts=True)
    Job.objects.bulk_update(jobs, ["next_run_at", "status", "updated_at"])
    return len(jobs)


def _set_aside(job: Job, exc: Exception) -> None:
    """Pause a job whose schedule can't be evaluated, so it can't stall the dispatcher."""
    log.exception("job %s: schedule can't be evaluated; pausing it", job.pk)
    job.status = Job.Status.PAUSED
    job.updated_at = timezone.now()
    record(
        action="job.auto_paused",
        target=job,
        details={
            "reason": "schedule can't be evaluated",
            "error": f"{exc.__class__.__name__}: {exc}",
        },
    )


def publish_pending(
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
    for index, (pk, kind) in enumerate(rows):
        if not _publish(pk, kind):
            unsent = [pk for pk, _ in rows[index:]]
            JobRun.objects.filter(pk__in=unsent, status=JobRun.Status.QUEUED).update(
                enqueued_at=None
            )
            return index
    return len(rows)


def time_limit(kind: str) -> int:
    module = kinds.registry().get(kind)
    return getattr(module, "TIME_LIMIT", None) or settings.JOBS_RUN_TIME_LIMIT


def _publish(run_id: int, kind: str) -> bool:
    from jobs.celery_tasks import run_job

    try:
        run_job.apply_async(
            (run_id,),
            queue="default",
            soft_time_limit=time_limit(kind),
            time_limit=hard_time_limit(kind),
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:
        log.warning("broker unavailable: job runs stay queued", exc_info=True)
        return False
    return True


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat, every minute: re-send runs whose message got lost; fail runs whose worker died."""
    from .runner import run_lost

    now = now or timezone.now()
    resent = JobRun.objects.filter(
        status=JobRun.Status.QUEUED,
        enqueued_at__lt=now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS),
    ).update(enqueued_at=None)
    lost = lost_runs(now=now)
    for run_id in lost:
        run_lost(run_id=run_id)
    published = publish_pending(now=now)
    return {"resent": resent, "lost": len(lost), "published": published}


LOST_MARGIN_SECONDS = 60  # past a run's hard time limit, for clock skew between machines


def lost_runs(*, now: datetime) -> list[int]:
    """Runs still `running` past their own kind's hard time limit: their worker is gone."""
    shortest = min(hard_time_limit(kind) for kind in [*kinds.names(), ""])
    candidates = (
        JobRun.objects.filter(
            status=JobRun.Status.RUNNING,
            started_at__lt=now - timedelta(seconds=shortest + LOST_MARGIN_SECONDS),
        )
        .order_by("started_at")
        .values_list("pk", "job__kind", "started_at")[:1000]
    )
    return [
        pk
        for pk, kind, started_at in candidates
        if started_at < now - timedelta(seconds=hard_time_limit(kind) + LOST_MARGIN_SECONDS)
    ]


def hard_time_limit(kind: str) -> int:
    """The longest a run of `kind` may take before its worker is killed."""
    return time_limit(kind) + RUN_TIME_LIMIT_GRACE
