"""Job use cases: create, update, pause, resume, cancel, delete, run now.

Each changes the `Job` and its `next_run_at` together, under the job's row lock, so a
dispatcher claiming jobs at the same moment (SKIP LOCKED) either sees the old job or the
new one, never half of each.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from audit.services import record
from jobs.models import Job, JobRun
from notifications.kinds import Kind as NotificationKind
from notifications.services import notify
from taskplatform.exceptions import ApplicationError

from . import kinds
from .dispatch import publish_pending
from .schedules import ONCE, Schedule, ScheduleError, beat_row, check_timezone, from_job, next_after

if TYPE_CHECKING:
    from accounts.models import User

Status = Job.Status
NOTIFY_ON = ("created", "succeeded", "failed")
EDITABLE = ("name", "kind", "params", "schedule", "timezone", "notify_on", "max_retries")


def _invalid(field: str, message: Any) -> ApplicationError:
    return ApplicationError("Invalid input.", code="validation_error", details={field: message})


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


def validate_params(*, kind: str, params: Any, owner) -> dict:
    """The kind's own serializer checks its params (task ids must be the owner's)."""
    if kind not in kinds.registry():
        raise _invalid("kind", [f'Unknown kind "{kind}". Choose from: {", ".join(kinds.names())}.'])
    form = kinds.get(kind).Params(data=params, context={"owner": owner})
    if not isinstance(params, dict):
        raise _invalid("params", ["Expected an object."])
    try:
        form.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        raise _invalid("params", exc.detail) from None
    return dict(form.validated_data)


def _first_run(schedule: Schedule, tz_name: str, now: datetime) -> datetime:
    try:
        tz = check_timezone(tz_name)
    except ScheduleError as exc:
        raise _invalid("timezone", [str(exc)]) from None
    first = next_after(schedule, tz, now)
    if first is None:
        raise _invalid("schedule", {"run_at": ["A one-off job must be scheduled in the future."]})
    return first


def job_validate(
    *, owner, kind: str, params: dict, schedule: Schedule, timezone: str
) -> tuple[dict, datetime]:
    """The checks a new job must pass (ApplicationError with field details if not):
    returns the cleaned params and the first run time."""
    params = validate_params(kind=kind, params=params, owner=owner)
    return params, _first_run(schedule, timezone, _now())


@transaction.atomic
def job_create(
    *,
    owner,
    name: str,
    kind: str,
    params: dict,
    schedule: Schedule,
    timezone: str = "UTC",
    notify_on: list[str] | tuple[str, ...] = ("failed",),
    max_retries: int = 3,
    actor=None,
) -> Job:
    """Create a job for `owner` (`actor`: who did it, if not the owner — an operator)."""
    params, next_run_at = job_validate(
        owner=owner, kind=kind, params=params, schedule=schedule, timezone=timezone
    )
    job = Job.objects.create(
        owner=owner,
        name=name,
        kind=kind,
        params=params,
        timezone=timezone,
        notify_on=list(notify_on),
        max_retries=max_retries,
        next_run_at=next_run_at,
        **beat_row(schedule, timezone),
    )
    record(
        actor=actor or owner,
        action="job.created",
        target=job,
        details={"kind": kind, "schedule": schedule.as_dict(), "timezone": timezone},
    )
    if "created" in job.notify_on:
        notify(
            user=owner,
            kind=NotificationKind.JOB_CREATED,
            context={"job": job},
            idempotency_key=f"job:{job.pk}:created",
        )
    return job


def _locked(job: Job) -> Job:
    return (
        Job.objects.select_for_update(of=("self",))
        .select_related("owner", "crontab", "interval", "clocked")
        .get(pk=job.pk)
    )


@transaction.atomic
def job_update(*, job: Job, actor, **changes: Any) -> Job:
    """Change any of EDITABLE; params are re-validated and `next_run_at` recomputed."""
    job = _locked(job)
    if job.status == Status.CANCELLED:
        raise _conflict("A cancelled job can't be changed.")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise _invalid(sorted(unknown)[0], ["This field can't be changed."])
    old_schedule = from_job(job)
    schedule = changes.pop("schedule", None) or old_schedule
    changed = sorted(
        field
        for field, value in {**changes, "schedule": schedule}.items()
        if (old_schedule if field == "schedule" else getattr(job, field)) != value
    )
    if not changed:
        return job
    if {"kind", "params"} & set(changed):
        kind, params = changes.get("kind", job.kind), changes.get("params", job.params)
        changes["params"] = validate_params(kind=kind, params=params, owner=job.owner)
    for field, value in changes.items():
        setattr(job, field, value)
    if {"schedule", "timezone"} & set(changed):
        job.next_run_at = _first_run(schedule, job.timezone, _now())
        for field, row in beat_row(schedule, job.timezone).items():
            setattr(job, field, row)
        if job.status == Status.COMPLETED:
            job.status = Status.ACTIVE  # a finished one-off given a new time runs again
    job.save()
    record(actor=actor, action="job.updated", target=job, details={"changed": changed})
    return job


@transaction.atomic
def job_pause(*, job: Job, actor) -> Job:
    job = _locked(job)
    if job.status != Status.ACTIVE:
        raise _conflict("Only an active job can be paused.")
    job.status = Status.PAUSED
    job.save(update_fields=["status", "updated_at"])
    record(actor=actor, action="job.paused", target=job)
    return job


@transaction.atomic
def job_resume(*, job: Job, actor) -> Job:
    """Back to active from the next slot after now (what was missed while paused is skipped;
    a one-off that never ran runs now)."""
    job = _locked(job)
    if job.status != Status.PAUSED:
        raise _conflict("Only a paused job can be resumed.")
    now = _now()
    schedule = from_job(job)
    anchor = job.next_run_at if schedule.type != ONCE else None
    next_run_at = next_after(schedule, check_timezone(job.timezone), now, anchor=anchor)
    if next_run_at is None and not job.runs.filter(trigger=JobRun.Trigger.SCHEDULE).exists():
        next_run_at = now
    job.next_run_at = next_run_at
    job.status = Status.ACTIVE if next_run_at else Status.COMPLETED
    job.consecutive_failures = 0
    job.save(update_fields=["status", "next_run_at", "consecutive_failures", "updated_at"])
    details = {"next_run_at": _iso(next_run_at)}
    record(actor=actor, action="job.resumed", target=job, details=details)
    return job


@transaction.atomic
def job_cancel(*, job: Job, actor) -> Job:
    """Stop for good: no more runs; runs not yet started are cancelled too."""
    job = _locked(job)
    if job.status == Status.CANCELLED:
        raise _conflict("The job is already cancelled.")
    job.status = Status.CANCELLED
    job.next_run_at = None
    job.save(update_fields=["status", "next_run_at", "updated_at"])
    dropped = JobRun.objects.filter(job=job, status=JobRun.Status.QUEUED).update(
        status=JobRun.Status.CANCELLED, finished_at=_now(), updated_at=_now()
    )
    details = {"queued_runs_cancelled": dropped}
    record(actor=actor, action="job.cancelled", target=job, details=details)
    return job


@transaction.atomic
def job_delete(*, job: Job, actor) -> None:
    record(
        actor=actor,
        action="job.deleted",
        target=job,
        details={"name": job.name, "kind": job.kind, "owner": job.owner.email},
    )
    job.delete()


@transaction.atomic
def job_run_now(*, job: Job, actor) -> JobRun:
    """Run once now, besides the schedule (allowed unless the job is cancelled)."""
    job = _locked(job)
    if job.status == Status.CANCELLED:
        raise _conflict("A cancelled job can't run.")
    run = JobRun.objects.create(job=job, trigger=JobRun.Trigger.MANUAL, scheduled_for=_now())
    record(actor=actor, action="job.run_requested", target=job, details={"run_id": run.pk})
    transaction.on_commit(lambda: publish_pending(ids=[run.pk]))
    return run


@transaction.atomic
def jobs_stop_for_owner(*, owner: User) -> dict[str, int]:
    """Pause the owner's active jobs and cancel their queued runs (an account switched off).

    Paused, not cancelled: an owner let back in resumes what they want. Bulk UPDATEs, no
    audit per job: the caller records one event with these counts.
    """
    now = _now()
    paused = Job.objects.filter(owner=owner, status=Status.ACTIVE).update(
        status=Status.PAUSED, updated_at=now
    )
    dropped = JobRun.objects.filter(job__owner=owner, status=JobRun.Status.QUEUED).update(
        status=JobRun.Status.CANCELLED, finished_at=now, updated_at=now
    )
    return {"jobs_paused": paused, "runs_cancelled": dropped}


def _now() -> datetime:
    return timezone.now()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
