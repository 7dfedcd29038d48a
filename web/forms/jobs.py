"""The jobs forms: a job's fields, its schedule builder and each kind's params.

They check shapes only (a number is a number, a choice is one of the choices); the rules
(a cron expression that parses, a one-off in the future, the shortest mailing interval, a
task that is the owner's) are jobs.services' — the same as the API's. Their
ApplicationError comes back onto the fields here (`show`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from jobs import kinds
from jobs.models import Job
from jobs.schedules import CRON, INTERVAL, ONCE, PERIODS, Schedule
from jobs.services import notify_on_default
from jobs.validation import DEFAULT_MAX_RETRIES, NOTIFY_ON, error_lines
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import CHOICES as ZONE_CHOICES
from taskplatform.timezones import ZONES
from taskplatform.validators import validate_one_line
from tasks.selectors import task_list

if TYPE_CHECKING:
    from accounts.models import User

TYPE_LABELS = {ONCE: "One-off", INTERVAL: "Interval", CRON: "Cron"}
# each schedule type's fields in the builder
TYPE_FIELDS = {ONCE: ("run_at",), INTERVAL: ("every", "period"), CRON: ("expression",)}
SCHEDULE_FIELDS = ("run_at", "every", "period", "expression")
NOTIFY_LABELS = {
    "created": "When it is created",
    "succeeded": "After each successful run",
    "failed": "When a run fails",
}
WALL_CLOCK = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
TASK_CHOICES = 200  # a reminder's task select lists the owner's latest tasks


def kind_label(kind: str) -> str:
    """A kind's name for people: "file_cleanup" -> "File cleanup"."""
    return kind.replace("_", " ").capitalize()


class WallClockField(forms.DateTimeField):
    """A date and time on the clock of the zone chosen elsewhere in the form: kept naive
    here (DateTimeField would read it in the person's own zone); the form places it."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WALL_CLOCK)

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class JobForm(forms.Form):
    """A job's own fields and its schedule; the kind's params are a form of their own."""

    name = forms.CharField(
        max_length=200,
        validators=[validate_one_line],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        choices=[(name, kind_label(name)) for name in kinds.names()],
        initial="reminder" if "reminder" in kinds.names() else kinds.names()[0],
    )
    schedule_type = forms.ChoiceField(
        label="Schedule type",
        choices=list(TYPE_LABELS.items()),
        initial=INTERVAL,
    )
    run_at = WallClockField(
        label="At",
        required=False,
        help_text="On the clock of the time zone below.",
    )
    every = forms.IntegerField(
        label="Every", required=False, widget=forms.NumberInput(attrs={"min": 1})
    )
    period = forms.ChoiceField(
        label="Unit", required=False, choices=[(p, p) for p in PERIODS], initial="hours"
    )
    expression = forms.CharField(
        label="Cron expression",
        required=False,
        max_length=255,
        help_text="5 fields: minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5 "
        "(weekdays at 09:00).",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}
        ),
    )
    timezone = forms.ChoiceField(label="Time zone", choices=ZONE_CHOICES)
    notify_on = forms.MultipleChoiceField(
        label="Email me",
        required=False,
        choices=[(event, NOTIFY_LABELS[event]) for event in NOTIFY_ON],
        widget=forms.CheckboxSelectMultiple,
    )
    max_retries = forms.IntegerField(
        label="Retries after a failure",
        initial=DEFAULT_MAX_RETRIES,
        widget=forms.NumberInput(attrs={"min": 0}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["max_retries"].widget.attrs["max"] = settings.JOBS_MAX_RETRIES
        # the builder: choosing a type or a kind swaps in its fields (the rest of the form
        # goes along, so fields already filled in keep their values)
        self.fields["schedule_type"].widget.attrs |= _swaps("web:job-schedule-fields", "schedule")
        self.fields["kind"].widget.attrs |= _swaps("web:job-params-fields", "params")

    @property
    def chosen_type(self) -> str:
        """The type whose fields the builder shows (the data's, when it names one)."""
        value = self.data.get("schedule_type") if self.is_bound else None
        value = value or self.initial.get("schedule_type") or self.fields["schedule_type"].initial
        return value if value in TYPE_LABELS else INTERVAL

    @property
    def chosen_kind(self) -> str:
        value = self.data.get("kind") if self.is_bound else None
        value = value or self.initial.get("kind") or self.fields["kind"].initial
        return value if value in kinds.registry() else kinds.names()[0]

    def type_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TYPE_FIELDS[self.chosen_type]]

    def schedule(self, current: Schedule | None = None) -> Schedule:
        """The schedule the builder describes (valid form only); a one-off's time placed in
        the chosen zone. `current`: the job's schedule, kept when the builder shows the
        same one-off to the minute (the page has no seconds)."""
        data = self.cleaned_data
        kind = data["schedule_type"]
        if kind == ONCE:
            run_at = data.get("run_at")
            if run_at is not None and run_at.tzinfo is None:
                run_at = run_at.replace(tzinfo=ZoneInfo(data["timezone"]))
            if (
                current is not None
                and current.type == ONCE
                and run_at is not None
                and _minute(run_at) == _minute(current.when)
            ):
                return current
            return Schedule(ONCE, run_at=run_at)
        if kind == INTERVAL:
            return Schedule(INTERVAL, every=data.get("every"), period=data.get("period") or None)
        return Schedule(CRON, expression=data.get("expression") or None)

    def job_input(self, *, params: dict[str, Any], current: Schedule | None = None) -> dict:
        """What job_create / job_update take, from a valid form."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "params": params,
            "schedule": self.schedule(current),
            "timezone": data["timezone"],
            "notify_on": data.get("notify_on") or [],
            "max_retries": data["max_retries"],
        }

    def show(self, exc: ApplicationError, params_form: forms.Form | None = None) -> None:
        """A service's refusal on the fields it concerns: a schedule's on the builder's
        fields, params' on the kind's fields, a quota on what it limits."""
        if exc.code == "quota_exceeded":
            quota = (exc.details or {}).get("quota")
            field = None
            if quota == "min_mailing_interval_seconds":
                field = {INTERVAL: "every", CRON: "expression"}.get(self.chosen_type)
            self.add_error(field, exc.message)
            return
        if not exc.details:
            self.add_error(None, exc.message)
            return
        for key, value in exc.details.items():
            if key == "schedule" and isinstance(value, dict):
                for part, messages in value.items():
                    field = part if part in SCHEDULE_FIELDS else "schedule_type"
                    self._add(field, messages)
            elif key == "params" and params_form is not None:
                _show_params(params_form, value)
                # the page says so at the top too: the kind's fields may be further down
                self.add_error(None, "Check the kind's settings below.")
            else:
                self._add(key, value)

    def _add(self, field: str, messages: Any) -> None:
        self.add_error(field if field in self.fields else None, error_lines(messages))


def _swaps(url_name: str, part: str) -> dict[str, str]:
    return {
        "hx-get": reverse(url_name),
        "hx-target": f"#{part}-fields",
        "hx-swap": "outerHTML",
        "hx-include": "#job-form",
        "hx-params": "not csrfmiddlewaretoken",
        "aria-controls": f"{part}-fields",
    }


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _show_params(form: forms.Form, details: Any) -> None:
    if not isinstance(details, dict):
        form.add_error(None, error_lines(details))
        return
    for key, messages in details.items():
        form.add_error(key if key in form.fields else None, error_lines(messages))


def job_initial(*, user: User, job: Job | None = None, schedule: Schedule | None = None) -> dict:
    """The builder's first values: a new job's (the person's zone and email preferences,
    every hour) or the job's own (a one-off's time on its zone's clock)."""
    if job is None or schedule is None:
        return {
            "timezone": user.timezone if user.timezone in ZONES else "UTC",
            "notify_on": notify_on_default(owner=user),
            **SCHEDULE_DEFAULTS[INTERVAL],
        }
    initial: dict[str, Any] = {
        "name": job.name,
        "kind": job.kind,
        "schedule_type": schedule.type,
        "timezone": job.timezone,
        "notify_on": list(job.notify_on),
        "max_retries": job.max_retries,
    }
    if schedule.type == ONCE:
        initial["run_at"] = schedule.when.astimezone(ZoneInfo(job.timezone)).replace(tzinfo=None)
    elif schedule.type == INTERVAL:
        initial |= {"every": schedule.every, "period": schedule.period}
    else:
        initial["expression"] = schedule.expression
    return initial


# what a type's fields hold when the builder switches to it
SCHEDULE_DEFAULTS: dict[str, dict[str, Any]] = {
    ONCE: {"schedule_type": ONCE},
    INTERVAL: {"schedule_type": INTERVAL, "every": 1, "period": "hours"},
    CRON: {"schedule_type": CRON, "expression": "0 9 * * 1-5"},
}


# --- each kind's params ------------------------------------------------------------------------


class ParamsForm(forms.Form):
    """A kind's params; `params()` is the dict the service checks (empty optional values
    left out, as the API's callers leave them out)."""

    prefix = "params"

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def params(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") or isinstance(self.fields[name], forms.BooleanField)
        }

    @classmethod
    def initial_from(cls, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params)


class ReminderParams(ParamsForm):
    message = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="What the email says."
    )
    task_id = forms.TypedChoiceField(
        label="About a task", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        tasks = task_list(user=user).filter(owner=user).order_by("-created_at", "-id")
        choices = [(task.pk, task.title) for task in tasks[:TASK_CHOICES]]
        # a task chosen before that is no longer among the latest stays choosable
        chosen = self.initial.get("task_id")
        if chosen and chosen not in {pk for pk, _ in choices}:
            choices.append((chosen, f"Task {chosen}"))
        field = self.fields["task_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "— none —"), *choices]


class FileCleanupParams(ParamsForm):
    older_than_days = forms.IntegerField(
        label="Delete files older than (days)", widget=forms.NumberInput(attrs={"min": 1})
    )
    name_pattern = forms.CharField(
        label="Only names matching",
        required=False,
        max_length=255,
        help_text="A glob, e.g. *.log (empty: every file).",
    )
    dry_run = forms.BooleanField(
        label="Dry run: list what would be deleted, delete nothing", required=False
    )


class TaskDigestParams(ParamsForm):
    """No settings: the digest lists your overdue, due-soon and open tasks."""


class JsonParams(ParamsForm):
    """A kind the web app has no form for: its params as JSON."""

    params_json = forms.JSONField(
        label="Settings (JSON)", required=False, initial=dict, widget=forms.Textarea
    )

    def params(self) -> dict[str, Any]:
        value = self.cleaned_data.get("params_json")
        return value if value is not None else {}

    @classmethod
    def initial_from(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {"params_json": json.dumps(params)}


PARAMS_FORMS: dict[str, type[ParamsForm]] = {
    "reminder": ReminderParams,
    "file_cleanup": FileCleanupParams,
    "task_digest": TaskDigestParams,
}

KIND_HELP = {
    "reminder": "Emails you a message, with a task's details if you pick one.",
    "file_cleanup": "Deletes your files older than some days (optionally matching a name).",
    "task_digest": "Emails you your overdue, due-soon and open tasks.",
}


def params_form(
    kind: str, *, user: User, data: Any = None, params: dict[str, Any] | None = None
) -> ParamsForm:
    """The params form of `kind`: bound to `data`, or showing a job's `params`."""
    form_class = PARAMS_FORMS.get(kind, JsonParams)
    initial = form_class.initial_from(params) if params is not None else None
    return form_class(data, user=user, initial=initial)


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Job.Status.choices])
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "Any kind"), *((name, kind_label(name)) for name in kinds.names())],
    )
