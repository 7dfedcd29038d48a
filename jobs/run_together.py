"""A message of quick runs (reminders due together) in one transaction.

One run at a time (jobs/runner.py) costs ten statements a reminder — claim, the work, the
outcome, the job, two audit events, two commits. Here the message's runs are locked at once
(`SELECT … FOR UPDATE SKIP LOCKED`), each handler does its work, and every outcome is
written by a few statements for all of them: the runs go `queued → succeeded` in one UPDATE,
their jobs in another, the audit events in one INSERT; one commit. About three statements a
reminder are left, all of them the email itself.

All or nothing: if any run is not queued (another delivery has it, or this message came
again after its worker died), or any handler fails, the transaction is rolled back and the
caller runs them one at a time, which records each failure and takes over what a dead worker
left. A worker killed meanwhile leaves nothing behind: the runs are still queued, and the
redelivered message runs them.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, audit_together
from jobs.models import JobRun
from live.services import live_together

from . import bulk_writes, kinds
from .run_records import count_on_commit, run_announce, run_details, run_dropped, succeeded_notify

log = logging.getLogger(__name__)
RunStatus = JobRun.Status


class _NotTogether(Exception):
    """Some run of the message is not queued: run them one at a time."""


def runs_execute_together(
    runs: dict[int, JobRun], run_ids: list[int], message_id: str
) -> list[str | None] | None:
    """Each run's final status, or None when the message can't run together (the caller then
    runs it one run at a time)."""
    found = [runs[run_id] for run_id in run_ids if run_id in runs]
    if len(found) < 2 or len(found) != len(run_ids) or len(set(run_ids)) != len(run_ids):
        return None  # (one run alone costs the same either way)
    kind = found[0].job.kind
    if not kinds.batchable(kind) or any(run.job.kind != kind for run in found):
        return None
    try:
        with transaction.atomic(), audit_together(), live_together():
            return _run(found, message_id)
    except _NotTogether:
        return None
    except Exception:  # a handler failed: one at a time, which records it
        log.info("jobs.run %s: running its %d runs one at a time", message_id, len(run_ids))
        return None


def _run(runs: list[JobRun], message_id: str) -> list[str | None]:
    started = timezone.now()
    ids = [run.pk for run in runs]
    locked = JobRun.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        pk__in=ids, status=RunStatus.QUEUED
    )
    if len(locked.values_list("pk", flat=True)) != len(ids):
        raise _NotTogether
    done, dropped = [], []
    for run in runs:
        run.status, run.started_at, run.updated_at = RunStatus.RUNNING, started, started
        run.claimed_by, run.deliveries = message_id, run.deliveries + 1
        if run_dropped(run.job, run):
            dropped.append(run)
        else:
            done.append((run, kinds.get(run.job.kind).execute(run.job, run)))
    now = timezone.now()
    bulk_writes.runs_succeed(done, started=started, now=now)
    bulk_writes.jobs_succeeded({run.job_id: run.pk for run, _ in done}, now=now)
    for run, result in done:
        run.status, run.finished_at, run.result = RunStatus.SUCCEEDED, now, result
        count_on_commit(run.job.kind, RunStatus.SUCCEEDED)
        audit_record(action="job.run_succeeded", target=run.job, details=run_details(run))
        succeeded_notify(run.job, run, result)
        run_announce(run.job, run)
    if dropped:
        JobRun.objects.filter(pk__in=[run.pk for run in dropped]).update(
            status=RunStatus.CANCELLED, started_at=started, finished_at=now, updated_at=now
        )
        for run in dropped:
            run.status, run.finished_at = RunStatus.CANCELLED, now
            count_on_commit(run.job.kind, RunStatus.CANCELLED)
            run_announce(run.job, run)
    statuses = {run.pk: run.status for run, _ in done} | {
        run.pk: RunStatus.CANCELLED for run in dropped
    }
    return [statuses[run.pk] for run in runs]
