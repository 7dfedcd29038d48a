"""Executing one run in a worker: claim, call the kind's handler, record, retry, notify.

The claim is a conditional UPDATE (queued → running), so a redelivered or duplicated
message for a run that already started does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from jobs.models import Job, JobRun
from notifications.kinds import Kind as NotificationKind
from notifications.publishing import publishing_together
from notifications.services import notification_create
from taskplatform import counters, liveness, outbox

from . import kinds
from .run_records import count_on_commit, run_announce, run_details, run_dropped, succeeded_notify
from .run_together import runs_execute_together

log = logging.getLogger(__name__)
RunStatus = JobRun.Status
MAX_ERROR_LENGTH = 4000
# executions of one run that killed their worker before it counts as lost (and is retried as
# a new run): bounds a run that crashes every worker it lands on
MAX_DELIVERIES = 3


def run_execute(*, run_id: int, message_id: str = "") -> str | None:
    """Run one queued run; returns its final status (None if another worker had it)."""
    return runs_execute(run_ids=[run_id], message_id=message_id)[0]


def runs_execute(*, run_ids: list[int], message_id: str = "") -> list[str | None]:
    """Run the queued runs of one message, one after the other; returns each one's final
    status (None for one another worker had).

    `message_id` is the Celery message's id. Each claim records it, and the execution holds
    a lock named after it (taskplatform.liveness) while it runs. The same message delivered
    again while one of its runs is still `running`, with that lock free, means the worker
    that had it died: this delivery takes the run over at once instead of leaving it to the
    sweeper, and runs the ones not started yet. With the lock held, a live execution has
    them, and this delivery does nothing.

    The runs (with job and owner) are read in one query. Several runs of a quick kind go
    together first, in one transaction (jobs/run_together.py); otherwise, or when that can't
    be, each is claimed as it starts, so its `started_at` is true and the sweeper's clock
    starts then. The emails they queue are handed to the senders together at the end.
    """
    if not message_id:
        return _execute_all(run_ids, "")
    with liveness.holding(f"jobs.run:{message_id}") as alone:
        return _execute_all(run_ids, message_id) if alone else [None] * len(run_ids)


def _execute_all(run_ids: list[int], message_id: str) -> list[str | None]:
    runs = JobRun.objects.select_related("job__owner").in_bulk(run_ids)
    statuses: list[str | None] = []
    with publishing_together():
        together = runs_execute_together(runs, run_ids, message_id)
        if together is not None:
            return together
        if len(run_ids) > 1:  # (the together attempt changed them in memory)
            runs = JobRun.objects.select_related("job__owner").in_bulk(run_ids)
        for index, run_id in enumerate(run_ids):
            try:
                statuses.append(_execute(runs.get(run_id), run_id, message_id))
            except _OutOfTime as stop:
                # the message's time is up: the runs not started go back to the dispatcher
                rest = run_ids[index + 1 :]
                JobRun.objects.filter(pk__in=rest, status=RunStatus.QUEUED).update(enqueued_at=None)
                return [*statuses, stop.status] + [None] * len(rest)
    return statuses


class _OutOfTime(Exception):
    """The run hit the message's soft time limit (recorded): stop the message here."""

    def __init__(self, status: str | None) -> None:
        super().__init__(status)
        self.status = status


def _execute(run: JobRun | None, run_id: int, message_id: str) -> str | None:
    now = timezone.now()
    claimed = JobRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=now,
        updated_at=now,
        claimed_by=message_id,
        deliveries=F("deliveries") + 1,
    )
    if claimed == 1 and run is not None:  # read while queued: now as the claim left it
        run.status, run.started_at, run.updated_at = RunStatus.RUNNING, now, now
        run.claimed_by, run.deliveries = message_id, run.deliveries + 1
    elif message_id and _take_over(run_id, message_id, now):
        run = JobRun.objects.select_related("job__owner").filter(pk=run_id).first()
    else:
        return None
    if run is None:  # the job was deleted meanwhile
        return None
    job = run.job
    if run_dropped(job, run):
        with transaction.atomic():
            JobRun.objects.filter(pk=run_id).update(
                status=RunStatus.CANCELLED, finished_at=now, updated_at=now
            )
            run.status, run.finished_at = RunStatus.CANCELLED, now
            run_announce(job, run)
        counters.run_counted(kind=job.kind, status=RunStatus.CANCELLED)
        return RunStatus.CANCELLED
    try:
        handler = kinds.get(job.kind)
    except KeyError:
        return _fail(run, f'Unknown kind "{job.kind}".', retry=False)
    try:
        if kinds.batchable(job.kind):
            # quick and database-only: its work and its success commit together (one
            # transaction, not two; a failure to record it undoes the work, and is retried)
            with transaction.atomic():
                return _succeed(run, handler.execute(job, run))
        result = handler.execute(job, run)
    except SoftTimeLimitExceeded:
        status = _fail(run, f"Time limit exceeded ({kinds.time_limit(job.kind)} s).", retry=True)
        raise _OutOfTime(status) from None
    except kinds.PermanentError as exc:
        return _fail(run, str(exc) or exc.__class__.__name__, retry=False)
    except Exception as exc:
        log.exception("job run %s failed", run_id)
        return _fail(run, f"{exc.__class__.__name__}: {exc}", retry=True)
    return _succeed(run, result)


def _take_over(run_id: int, message_id: str, now: datetime) -> bool:
    """The same message again while its run is `running` and no live execution holds the
    message's lock: its worker died (or its execution failed half-way). Run it again."""
    mine = JobRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, claimed_by=message_id)
    if mine.filter(deliveries__lt=MAX_DELIVERIES).update(
        started_at=now, updated_at=now, deliveries=F("deliveries") + 1
    ):
        log.warning("job run %s: the worker running it was lost; running it again", run_id)
        return True
    if mine.exists():  # it killed its worker every time: fail it (a retry is a new run)
        run_lost(run_id=run_id)
    return False


def run_lost(*, run_id: int) -> str | None:
    """A run still `running` long past its hard time limit: its worker died. Retried."""
    run = JobRun.objects.select_related("job__owner").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return None
    return _fail(run, "The worker running this was lost (killed or restarted).", retry=True)


@transaction.atomic(savepoint=False)  # (inside the run's own transaction: no savepoint)
def _succeed(run: JobRun, result: Any) -> str | None:
    now = timezone.now()
    if not _finish(run, RunStatus.SUCCEEDED, now, result=result):
        return None
    job = run.job
    count_on_commit(job.kind, RunStatus.SUCCEEDED)
    Job.objects.filter(pk=job.pk).update(consecutive_failures=0, last_run=run, updated_at=now)
    audit_record(action="job.run_succeeded", target=job, details=run_details(run))
    succeeded_notify(job, run, result)
    return RunStatus.SUCCEEDED


@transaction.atomic
def _fail(run: JobRun, error: str, *, retry: bool) -> str | None:
    now = timezone.now()
    locked = Job.objects.select_for_update(of=("self",)).select_related("owner")
    job = locked.filter(pk=run.job_id).first()
    if job is None:  # deleted while the run was running: nothing left to record
        return None
    runnable = job.status in (Job.Status.ACTIVE, Job.Status.COMPLETED)  # not paused/cancelled
    retry = retry and run.attempt <= job.max_retries and runnable
    status = RunStatus.RETRYING if retry else RunStatus.FAILED
    error = error[:MAX_ERROR_LENGTH]
    if not _finish(run, status, now, error=error):
        return None
    count_on_commit(job.kind, status)
    job.last_run = run
    details = {**run_details(run), "error": error}
    if retry:
        retry_run = JobRun.objects.create(
            job=job,
            trigger=JobRun.Trigger.RETRY,
            scheduled_for=now + _backoff(run.attempt),
            attempt=run.attempt + 1,
            retry_of_id=run.first_run_id,
        )
        details["retry_run_id"] = retry_run.pk
        audit_record(action="job.run_retrying", target=job, details=details)
        job.save(update_fields=["last_run", "updated_at"])
        return status
    job.consecutive_failures += 1
    audit_record(action="job.run_failed", target=job, details=details)
    context = {"job": job, "run": run, "error": error, "failures": job.consecutive_failures}
    limit = settings.JOBS_MAX_CONSECUTIVE_FAILURES
    if job.status == Job.Status.ACTIVE and job.consecutive_failures >= limit:
        job.status = Job.Status.PAUSED
        audit_record(
            action="job.auto_paused", target=job, details={"failures": job.consecutive_failures}
        )
        notification_create(
            user=job.owner,
            kind=NotificationKind.JOB_PAUSED,
            context=context,
            idempotency_key=f"job-run:{run.pk}:paused",
        )
    elif "failed" in job.notify_on:
        notification_create(
            user=job.owner,
            kind=NotificationKind.JOB_FAILED,
            context=context,
            idempotency_key=f"job-run:{run.pk}:failed",
            asked_by_job=True,
        )
    job.save(update_fields=["status", "consecutive_failures", "last_run", "updated_at"])
    return status


def _finish(run: JobRun, status: str, now: datetime, **fields: Any) -> bool:
    """running → final, once (the sweeper and a late worker can't both finish a run)."""
    updated = JobRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=status, finished_at=now, updated_at=now, **fields
    )
    for field, value in {"status": status, "finished_at": now, **fields}.items():
        setattr(run, field, value)
    if updated == 1:
        run_announce(run.job, run)
    return updated == 1


def _backoff(attempt: int) -> timedelta:
    seconds = outbox.backoff(
        attempt, base=settings.JOBS_RETRY_BASE_SECONDS, cap=settings.JOBS_RETRY_MAX_SECONDS
    )
    return timedelta(seconds=seconds)
