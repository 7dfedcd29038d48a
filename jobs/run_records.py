"""What a run's outcome writes, shared by the runner (jobs/runner.py: one run at a time) and
the together path (jobs/run_together.py: a whole message of quick runs at once)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jobs.models import Job, JobRun
from live.services import live_publish
from notifications.kinds import Kind as NotificationKind
from notifications.services import notification_create
from taskplatform import counters


def run_dropped(job: Job, run: JobRun) -> bool:
    """Cancelled jobs and deactivated owners run nothing; a paused job runs only what
    someone asked for by hand (its queued scheduled runs and retries are dropped)."""
    if job.status == Job.Status.CANCELLED or not job.owner.is_active:
        return True
    return job.status == Job.Status.PAUSED and run.trigger != JobRun.Trigger.MANUAL


def run_details(run: JobRun) -> dict[str, Any]:
    return {"run_id": run.pk, "trigger": run.trigger, "attempt": run.attempt}


def run_announce(job: Job, run: JobRun) -> None:
    """Tell the job's owner's live clients how the run ended (`run.finished`), inside the
    transaction that records it (in one INSERT for a message's runs: live_together)."""
    live_publish(
        type="run.finished",
        object_type="run",
        object_id=run.pk,
        audience=[job.owner_id],
        data={
            "id": run.pk,
            "job_id": job.pk,
            "job_name": job.name,
            "status": run.status,
            "trigger": run.trigger,
            "attempt": run.attempt,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
    )


def count_on_commit(kind: str, status: str) -> None:
    # counted once the outcome is recorded (a rolled-back one is run again)
    transaction.on_commit(lambda: counters.run_counted(kind=kind, status=status))


def succeeded_notify(job: Job, run: JobRun, result: Any) -> None:
    """The owner's `job_succeeded` email, when the job's notify_on asks for it."""
    if "succeeded" in job.notify_on:
        notification_create(
            user=job.owner,
            kind=NotificationKind.JOB_SUCCEEDED,
            context={"job": job, "run": run, "summary": _summary(result)},
            idempotency_key=f"job-run:{run.pk}:succeeded",
            asked_by_job=True,
        )


def _summary(result: Any) -> str:
    if not isinstance(result, dict):
        return ""
    return ", ".join(f"{k}: {v}" for k, v in result.items() if isinstance(v, int | str | bool))
