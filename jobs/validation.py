"""The rules a job's input must pass, in one place: jobs.services applies them on create
and update; the API's serializer, the admin form and the CLI check only shape and show the
ApplicationError's details, field by field.

Where the API's serializer declares the same bound (for its schema) the message is DRF's,
so the API answers alike whichever of the two refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.utils import timezone as django_timezone

from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import zone_check

from . import kinds
from .models import Job
from .quotas import mailing_interval_check
from .schedules import Schedule, ScheduleError, next_after, schedule_check

if TYPE_CHECKING:
    from accounts.models import User

NOTIFY_ON = ("created", "succeeded", "failed")
DEFAULT_NOTIFY_ON = ("failed",)
DEFAULT_MAX_RETRIES = 3
NAME_MAX_LENGTH = cast(int, Job._meta.get_field("name").max_length)
INVALID = "The request is invalid: see details."  # the API's words for any validation error


def invalid(details: dict[str, Any]) -> ApplicationError:
    return ApplicationError(INVALID, code="validation_error", details=details)


class _FieldInvalid(Exception):
    def __init__(self, messages: list[str] | dict[str, Any]) -> None:
        super().__init__(messages)
        self.messages = messages


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


_CHECKS: dict[str, Callable[[Any], Any]] = {  # in the API's field order: details keep it
    "name": _name_check,
    "kind": _kind_check,
    "schedule": _schedule_check,
    "timezone": _timezone_check,
    "notify_on": _notify_on_check,
    "max_retries": _max_retries_check,
}


def fields_check(
    *,
    name: str | None = None,
    kind: str | None = None,
    schedule: Schedule | None = None,
    timezone: str | None = None,
    notify_on: Sequence[str] | None = None,
    max_retries: int | None = None,
) -> dict[str, Any]:
    """The fields given (None: not given), each checked on its own and made canonical
    (name stripped, schedule in UTC, notify_on in order), or ApplicationError naming every
    field's problem at once."""
    given = {
        "name": name,
        "kind": kind,
        "schedule": schedule,
        "timezone": timezone,
        "notify_on": notify_on,
        "max_retries": max_retries,
    }
    cleaned: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for field, check in _CHECKS.items():
        if given[field] is None:
            continue
        try:
            cleaned[field] = check(given[field])
        except _FieldInvalid as exc:
            errors[field] = exc.messages
    if errors:
        raise invalid(errors)
    return cleaned


def params_check(*, kind: str, params: Any, owner: User) -> dict[str, Any]:
    """The kind's own serializer checks its params (task ids must be the owner's)."""
    if not isinstance(params, dict):
        raise invalid({"params": ["Expected an object."]})
    form = kinds.get(kind).Params(data=params, context={"owner": owner})
    if not form.is_valid():  # its errors as {"key": ["message", …]}, like any field's
        raise invalid({"params": dict(form.errors)})
    return dict(form.validated_data)


def first_run(schedule: Schedule, tz_name: str, now: datetime) -> datetime:
    """The first run time after `now`; a one-off in the past is an error."""
    first = next_after(schedule, zone_check(tz_name), now)
    if first is None:
        raise invalid({"schedule": {"run_at": ["A one-off job must be scheduled in the future."]}})
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
    """The checks a new job's input must pass (job_create's), or ApplicationError
    ("validation_error") with details per field. No time zone means the owner's (or UTC);
    no notify_on, failures only; no params, {}.

    In four steps, as the API has always answered: the fields on their own (every problem
    at once), then the kind's params (they may query), then the first run time, then the
    shortest schedule a mailing job may have (QuotaExceeded, "quota_exceeded")."""
    fields = fields_check(
        name=name,
        kind=kind,
        schedule=schedule,
        timezone=owner.timezone or "UTC" if timezone is None else timezone,
        notify_on=DEFAULT_NOTIFY_ON if notify_on is None else notify_on,
        max_retries=max_retries,
    )
    params = params_check(kind=fields["kind"], params={} if params is None else params, owner=owner)
    next_run_at = first_run(fields["schedule"], fields["timezone"], django_timezone.now())
    mailing_interval_check(
        owner=owner,
        kind=fields["kind"],
        schedule=fields["schedule"],
        timezone=fields["timezone"],
        notify_on=fields["notify_on"],
    )
    return JobInput(**fields, params=params, next_run_at=next_run_at)


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
