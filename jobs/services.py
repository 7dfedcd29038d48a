"""Job use cases: create, update, pause, resume, cancel, delete, run now.

Every rule a job's input must pass lives here (kind, params, schedule, time zone,
notify_on, retries): the API, the admin and the CLI call these and show the
ApplicationError's details, field by field. Their own checks are only about shape.

Each change updates the `Job` and its `next_run_at` together, under the job's row lock, so a
dispatcher claiming jobs at the same moment (SKIP LOCKED) either sees the old job or the
new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone as django_timezone
from rest_framework import serializers

from audit.services import record
from jobs.models import Job, JobRun
from notifications.kinds import Kind as NotificationKind
from notifications.services import notify
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from . import kinds
from .dispatch import job_runs_publish_due
from .schedules import ONCE, Schedule, ScheduleError, beat_row, from_job, next_after, schedule_check

if TYPE_CHECKING:
    from accounts.models import User

Status = Job.Status
NOTIFY_ON = ("created", "succeeded", "failed")
DEFAULT_NOTIFY_ON = ("failed",)
DEFAULT_MAX_RETRIES = 3
NAME_MAX_LENGTH = cast(int, Job._meta.get_field("name").max_length)
INVALID = "The request is invalid: see details."  # the API's words for any validation error

T = TypeVar("T")


class _FieldInvalid(Exception):
    def __init__(self, messages: list[str] | dict[str, Any]) -> None:
        super().__init__(messages)
        self.messages = messages


def _invalid(details: dict[str, Any]) -> ApplicationError:
    return ApplicationError(INVALID, code="validation_error", details=details)


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


# --- the rules, one per field ---------------------------------------------------------------
# (their messages are DRF's where the API's serializer declares the same bound for its schema:
# the API answers alike whichever of the two refuses)


def _name_check(name: str) -> str:
    if not isinstance(name, str):
        raise _FieldInvalid(["Not a valid string."])
    name = name.strip()
    if not name:
        raise _FieldInvalid(["This field may not be blank."])
    if len(name) > NAME_MAX_LENGTH:
        raise _FieldInvalid([f"Ensure this field has no more than {NAME_MAX_LENGTH} characters."])
    if "\x00" in name:
        raise _FieldInvalid(["Null characters are not allowed."])
    return name


def _kind_check(kind: str) -> str:
    if kind not in kinds.registry():
        choices = ", ".join(kinds.names())
        raise _FieldInvalid([f'Unknown kind "{kind}". Choose from: {choices}.'])
    return kind


def _schedule_check(schedule: Schedule) -> Schedule:
    try:
        return schedule_check(schedule)
    except ScheduleError as exc:
        raise _FieldInvalid(exc.errors) from None


def _timezone_check(name: str) -> str:
    try:
        zone_check(name)
    except ValueError as exc:
        raise _FieldInvalid([str(exc)]) from None
    return name


def _notify_on_check(events: Sequence[str]) -> list[str]:
    """The events in NOTIFY_ON's order, each once."""
    if isinstance(events, str) or not isinstance(events, Sequence):
        raise _FieldInvalid([f'Expected a list of items but got type "{type(events).__name__}".'])
    unknown = {
        str(index): [f'"{event}" is not a valid choice.']
        for index, event in enumerate(events)
        if event not in NOTIFY_ON
    }
    if unknown:
        raise _FieldInvalid(unknown)
    return [event for event in NOTIFY_ON if event in events]


def _max_retries_check(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _FieldInvalid(["A valid integer is required."])
    if value < 0:
        raise _FieldInvalid(["Ensure this value is greater than or equal to 0."])
    if value > settings.JOBS_MAX_RETRIES:
        limit = settings.JOBS_MAX_RETRIES
        raise _FieldInvalid([f"Ensure this value is less than or equal to {limit}."])
    return value


def _collect(errors: dict[str, Any], field: str, check: Callable[[T], T], value: T) -> T:
    """`check(value)`, or the value as given with the field's messages put in `errors`."""
    try:
        return check(value)
    except _FieldInvalid as exc:
        errors[field] = exc.messages
        return value


def _params_check(*, kind: str, params: Any, owner: User) -> dict[str, Any]:
    """The kind's own serializer checks its params (task ids must be the owner's)."""
    if not isinstance(params, dict):
        raise _invalid({"params": ["Expected an object."]})
    form = kinds.get(kind).Params(data=params, context={"owner": owner})
    try:
        form.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        raise _invalid({"params": exc.detail}) from None
    return dict(form.validated_data)


def _first_run(schedule: Schedule, tz_name: str, now: datetime) -> datetime:
    first = next_after(schedule, zone_check(tz_name), now)
    if first is None:
        raise _invalid({"schedule": {"run_at": ["A one-off job must be scheduled in the future."]}})
    return first


@dataclass(frozen=True)
class JobInput:
    """A new job's input once every rule has passed."""

    name: str
    kind: str
    params: dict[str, Any]
    schedule: Schedule
    timezone: str
    notify_on: list[str]
    max_retries: int
    next_run_at: datetime


def job_validate(
    *,
    owner: User,
    name: str,
    kind: str,
    params: dict[str, Any] | None = None,
    schedule: Schedule,
    timezone: str | None = None,
    notify_on: Sequence[str] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> JobInput:
    """The checks a new job must pass, or ApplicationError("validation_error") with
    details per field. No time zone means the owner's (or UTC); no notify_on, failures only.

    In three steps, like the answers clients know: the fields on their own (every problem
    at once), then the kind's params (they may query), then the first run time."""
    if timezone is None:
        timezone = owner.timezone or "UTC"
    errors: dict[str, Any] = {}
    name = _collect(errors, "name", _name_check, name)
    kind = _collect(errors, "kind", _kind_check, kind)
    schedule = _collect(errors, "schedule", _schedule_check, schedule)
    timezone = _collect(errors, "timezone", _timezone_check, timezone)
    if notify_on is None:
        notify_on = DEFAULT_NOTIFY_ON
    events = _collect(errors, "notify_on", _notify_on_check, notify_on)
    max_retries = _collect(errors, "max_retries", _max_retries_check, max_retries)
    if errors:
        raise _invalid(errors)
    params = _params_check(kind=kind, params={} if params is None else params, owner=owner)
    return JobInput(
        name=name,
        kind=kind,
        params=params,
        schedule=schedule,
        timezone=timezone,
        notify_on=list(events),
        max_retries=max_retries,
        next_run_at=_first_run(schedule, timezone, _now()),
    )


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
    """Create a job for `owner` (`actor`: who did it, if not the owner — an operator).
    The input is checked by `job_validate` (its defaults apply)."""
    data = job_validate(
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
    record(
        actor=actor or owner,
        action="job.created",
        target=job,
        details={"kind": job.kind, "schedule": data.schedule.as_dict(), "timezone": job.timezone},
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
    """Change the fields given (None: unchanged) under the same rules as `job_create`;
    params are re-checked when the kind or params change, `next_run_at` recomputed when the
    schedule or time zone do."""
    job = _locked(job)
    errors: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _collect(errors, "name", _name_check, name)
    if kind is not None:
        changes["kind"] = _collect(errors, "kind", _kind_check, kind)
    if params is not None:
        changes["params"] = params
    if schedule is not None:
        schedule = _collect(errors, "schedule", _schedule_check, schedule)
    if timezone is not None:
        changes["timezone"] = _collect(errors, "timezone", _timezone_check, timezone)
    if notify_on is not None:
        changes["notify_on"] = _collect(errors, "notify_on", _notify_on_check, notify_on)
    if max_retries is not None:
        changes["max_retries"] = _collect(errors, "max_retries", _max_retries_check, max_retries)
    if errors:
        raise _invalid(errors)
    if job.status == Status.CANCELLED:
        raise _conflict("A cancelled job can't be changed.")
    old_schedule = from_job(job)
    schedule = schedule or old_schedule
    changed = sorted(
        field
        for field, value in {**changes, "schedule": schedule}.items()
        if (old_schedule if field == "schedule" else getattr(job, field)) != value
    )
    if not changed:
        return job
    if {"kind", "params"} & set(changed):
        changes["params"] = _params_check(
            kind=changes.get("kind", job.kind),
            params=changes.get("params", job.params),
            owner=job.owner,
        )
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
def job_pause(*, job: Job, actor: User | None) -> Job:
    job = _locked(job)
    if job.status != Status.ACTIVE:
        raise _conflict("Only an active job can be paused.")
    job.status = Status.PAUSED
    job.save(update_fields=["status", "updated_at"])
    record(actor=actor, action="job.paused", target=job)
    return job


@transaction.atomic
def job_resume(*, job: Job, actor: User | None) -> Job:
    """Back to active from the next slot after now (what was missed while paused is skipped;
    a one-off that never ran runs now)."""
    job = _locked(job)
    if job.status != Status.PAUSED:
        raise _conflict("Only a paused job can be resumed.")
    now = _now()
    schedule = from_job(job)
    anchor = job.next_run_at if schedule.type != ONCE else None
    next_run_at = next_after(schedule, zone_check(job.timezone), now, anchor=anchor)
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
    record(actor=actor, action="job.cancelled", target=job, details=details)
    return job


@transaction.atomic
def job_delete(*, job: Job, actor: User | None) -> None:
    record(
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
    record(actor=actor, action="job.run_requested", target=job, details={"run_id": run.pk})
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


def error_lines(details: Any, prefix: str = "") -> list[str]:
    """An ApplicationError's details as lines like "schedule.run_at: …", for the admin
    form and the CLI (the API sends the details as they are)."""
    if isinstance(details, dict):
        return [
            line
            for key, value in details.items()
            for line in error_lines(
                value, prefix if key == "non_field_errors" else f"{prefix}{key}."
            )
        ]
    if isinstance(details, list):
        return [line for item in details for line in error_lines(item, prefix)]
    return [f"{prefix.rstrip('.')}: {details}" if prefix else str(details)]
