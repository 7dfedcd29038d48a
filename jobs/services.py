"""Job use cases: create, update, pause, resume, cancel, delete, run now.

A job's input passes the rules in jobs.validation here, and the owner's quotas in
jobs.quotas, whoever calls (the API, the admin, the CLI): they check only shape and show
the ApplicationError's details.

Each change updates the `Job` and its `next_run_at` together, under the job's row lock, so a
dispatcher claiming jobs at the same moment (SKIP LOCKED) either sees the old job or the
new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone as django_timezone

from audit.services import audit_record
from jobs.models import Job, JobRun
from notifications.kinds import Kind as NotificationKind
from notifications.services import notification_create, preferences_get
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from .dispatch import job_runs_publish_due
from .quotas import (
    active_jobs_check,
    mailing_interval_check,
    owner_lock,
    quota_refusals_recorded,
)
from .schedules import ONCE, Schedule, beat_row, from_job, next_after
from .validation import (
    DEFAULT_MAX_RETRIES,
    JobInput,
    fields_check,
    first_run,
    job_validate,
    params_check,
)

if TYPE_CHECKING:
    from accounts.models import User

Status = Job.Status


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


@quota_refusals_recorded
@transaction.atomic
def job_create_check(
    *,
    owner: User,
    name: str,
    kind: str,
    params: dict[str, Any] | None = None,
    schedule: Schedule,
    timezone: str | None = None,
    notify_on: Sequence[str] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> None:
    """Raise what job_create would, creating nothing (the admin form asks before saving).
    A quota refusal is audited. The owner's row lock is the caller's transaction's: the
    admin's add view runs clean and save in one, so no other create takes the last place
    in between."""
    _create_checked(
        owner=owner,
        name=name,
        kind=kind,
        params=params,
        schedule=schedule,
        timezone=timezone,
        notify_on=notify_on,
        max_retries=max_retries,
    )


@quota_refusals_recorded
@transaction.atomic
def job_create(
    *,
    owner: User,
    name: str,
    kind: str,
    params: dict[str, Any] | None = None,
    schedule: Schedule,
    timezone: str | None = None,
    notify_on: Sequence[str] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    actor: User | None = None,
) -> Job:
    """Create a job for `owner` (`actor`: who did it, if not the owner — an operator)."""
    data = _create_checked(
        owner=owner,
        name=name,
        kind=kind,
        params=params,
        schedule=schedule,
        timezone=timezone,
        notify_on=notify_on,
        max_retries=max_retries,
    )
    job = Job.objects.create(
        owner=owner,
        name=data.name,
        kind=data.kind,
        params=data.params,
        timezone=data.timezone,
        notify_on=data.notify_on,
        max_retries=data.max_retries,
        next_run_at=data.next_run_at,
        **beat_row(data.schedule, data.timezone),
    )
    audit_record(
        actor=actor or owner,
        action="job.created",
        target=job,
        details={"kind": job.kind, "schedule": data.schedule.as_dict(), "timezone": job.timezone},
    )
    if "created" in job.notify_on:
        notification_create(
            user=owner,
            kind=NotificationKind.JOB_CREATED,
            context={"job": job},
            idempotency_key=f"job:{job.pk}:created",
            asked_by_job=True,
        )
    return job


def _create_checked(
    *,
    owner: User,
    name: str,
    kind: str,
    params: dict[str, Any] | None,
    schedule: Schedule,
    timezone: str | None,
    notify_on: Sequence[str] | None,
    max_retries: int,
) -> JobInput:
    """A new job's input checked by `job_validate` (its defaults apply; no notify_on: the
    owner's preferences), then the owner's active jobs counted under their row lock
    (jobs.quotas), held until the transaction ends."""
    data = job_validate(
        owner=owner,
        name=name,
        kind=kind,
        params=params,
        schedule=schedule,
        timezone=timezone,
        notify_on=notify_on_default(owner=owner) if notify_on is None else notify_on,
        max_retries=max_retries,
    )
    owner_lock(owner.pk)
    active_jobs_check(owner=owner, kind=data.kind)
    return data


# a job's notify_on event -> the preference that is its default for new jobs
PREFERENCE_FOR_EVENT = {
    "created": "job_created",
    "succeeded": "job_succeeded",
    "failed": "job_failed",
}


def notify_on_default(*, owner: User) -> list[str]:
    """A new job's notify_on when none is given: the events whose preference `owner` has on
    (job_created, job_succeeded, job_failed). From then on the job's notify_on decides."""
    preference = preferences_get(user=owner)
    return [event for event, field in PREFERENCE_FOR_EVENT.items() if getattr(preference, field)]


def _locked(job: Job) -> Job:
    return (
        Job.objects.select_for_update(of=("self",))
        .select_related("owner", "crontab", "interval", "clocked")
        .get(pk=job.pk)
    )


@quota_refusals_recorded
@transaction.atomic
def job_update(
    *,
    job: Job,
    actor: User | None,
    name: str | None = None,
    kind: str | None = None,
    params: dict[str, Any] | None = None,
    schedule: Schedule | None = None,
    timezone: str | None = None,
    notify_on: Sequence[str] | None = None,
    max_retries: int | None = None,
) -> Job:
    """Change the fields given (None: unchanged) under job_create's rules; params are
    checked again when the kind or params change, `next_run_at` recomputed when the
    schedule or time zone do; the quotas are checked when what they look at changes (the
    kind, schedule, time zone or notify_on; a completed job made active again). Bad values
    are reported before a cancelled job's conflict."""
    owner_lock(job.owner_id)
    job = _locked(job)
    changes = fields_check(
        name=name,
        kind=kind,
        schedule=schedule,
        timezone=timezone,
        notify_on=notify_on,
        max_retries=max_retries,
    )
    if params is not None:
        changes["params"] = params
    if job.status == Status.CANCELLED:
        raise _conflict("A cancelled job can't be changed.")
    old_schedule = from_job(job)
    new_schedule = changes.pop("schedule", old_schedule)
    changed = sorted(
        field
        for field, value in {**changes, "schedule": new_schedule}.items()
        if (old_schedule if field == "schedule" else getattr(job, field)) != value
    )
    if not changed:
        return job
    if {"kind", "params"} & set(changed):
        changes["params"] = params_check(
            kind=changes.get("kind", job.kind),
            params=changes.get("params", job.params),
            owner=job.owner,
        )
    for field, value in changes.items():
        setattr(job, field, value)
    if {"kind", "schedule", "timezone", "notify_on"} & set(changed):
        mailing_interval_check(
            owner=job.owner,
            kind=job.kind,
            schedule=new_schedule,
            timezone=job.timezone,
            notify_on=job.notify_on,
        )
    if {"schedule", "timezone"} & set(changed):
        job.next_run_at = first_run(new_schedule, job.timezone, _now())
        for field, row in beat_row(new_schedule, job.timezone).items():
            setattr(job, field, row)
        if job.status == Status.COMPLETED:
            active_jobs_check(owner=job.owner, kind=job.kind)
            job.status = Status.ACTIVE  # a finished one-off given a new time runs again
    job.save()
    audit_record(actor=actor, action="job.updated", target=job, details={"changed": changed})
    return job


@transaction.atomic
def job_pause(*, job: Job, actor: User | None) -> Job:
    job = _locked(job)
    if job.status != Status.ACTIVE:
        raise _conflict("Only an active job can be paused.")
    job.status = Status.PAUSED
    job.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="job.paused", target=job)
    return job


@quota_refusals_recorded
@transaction.atomic
def job_resume(*, job: Job, actor: User | None) -> Job:
    """Back to active from the next slot after now (what was missed while paused is skipped;
    a one-off that never ran runs now), if the owner's active jobs quota allows."""
    owner_lock(job.owner_id)
    job = _locked(job)
    if job.status != Status.PAUSED:
        raise _conflict("Only a paused job can be resumed.")
    now = _now()
    schedule = from_job(job)
    anchor = job.next_run_at if schedule.type != ONCE else None
    next_run_at = next_after(schedule, zone_check(job.timezone), now, anchor=anchor)
    if next_run_at is None and not job.runs.filter(trigger=JobRun.Trigger.SCHEDULE).exists():
        next_run_at = now
    if next_run_at:
        active_jobs_check(owner=job.owner, kind=job.kind)
    job.next_run_at = next_run_at
    job.status = Status.ACTIVE if next_run_at else Status.COMPLETED
    job.consecutive_failures = 0
    job.save(update_fields=["status", "next_run_at", "consecutive_failures", "updated_at"])
    details = {"next_run_at": _iso(next_run_at)}
    audit_record(actor=actor, action="job.resumed", target=job, details=details)
    return job


@transaction.atomic
def job_cancel(*, job: Job, actor: User | None) -> Job:
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
    audit_record(actor=actor, action="job.cancelled", target=job, details=details)
    return job


@transaction.atomic
def job_delete(*, job: Job, actor: User | None) -> None:
    audit_record(
        actor=actor,
        action="job.deleted",
        target=job,
        details={"name": job.name, "kind": job.kind, "owner": job.owner.email},
    )
    job.delete()


@transaction.atomic
def job_run_now(*, job: Job, actor: User | None) -> JobRun:
    """Run once now, besides the schedule (allowed unless the job is cancelled)."""
    job = _locked(job)
    if job.status == Status.CANCELLED:
        raise _conflict("A cancelled job can't run.")
    run = JobRun.objects.create(job=job, trigger=JobRun.Trigger.MANUAL, scheduled_for=_now())
    audit_record(actor=actor, action="job.run_requested", target=job, details={"run_id": run.pk})
    transaction.on_commit(lambda: job_runs_publish_due(ids=[run.pk]))
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
    return django_timezone.now()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
