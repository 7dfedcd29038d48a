"""The admin's "add job" form: it collects the fields; the service's rules (job_create_check,
then job_create) check them and each error is shown on the field it concerns."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from taskplatform.api.parsers import check_json_value
from taskplatform.exceptions import ApplicationError
from taskplatform.timezones import CHOICES as ZONE_CHOICES

from . import kinds, services
from .models import Job
from .schedules import CRON, INTERVAL, PERIODS, TYPES, Schedule
from .validation import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_NOTIFY_ON,
    NOTIFY_ON,
    error_lines,
)

SCHEDULE_FIELDS = ("run_at", "every", "period", "expression")


class ParamsField(forms.JSONField):
    """JSON as the API's parser accepts it: too deep a nesting is a form error, not a 500."""

    def to_python(self, value):
        try:
            value = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError("Nested too deeply.", code="invalid") from None
        try:
            check_json_value(value, allow_nul=False)
        except ValueError as exc:
            raise forms.ValidationError(f"Not accepted: {exc}.", code="invalid") from None
        return value

    def bound_data(self, data, initial):  # the form shown again with the error
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class JobCreateForm(forms.ModelForm):
    """Everything a job needs, for an operator creating one on a user's behalf.

    A ModelForm because the admin's add view expects one; only `owner` is a model field
    here, so the model's own validation adds nothing to the service's.
    """

    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True))
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[(k, k) for k in kinds.names()])
    params = ParamsField(
        initial=dict, required=False, help_text='e.g. {"message": "Stand-up"} for a reminder'
    )
    schedule_type = forms.ChoiceField(choices=[(t, t) for t in TYPES])
    run_at = forms.DateTimeField(
        required=False, help_text="once: ISO 8601 with offset, e.g. 2026-12-01T09:00:00+01:00"
    )
    every = forms.IntegerField(required=False, help_text="interval: how many")
    period = forms.ChoiceField(
        required=False, choices=[("", "—")] + [(p, p) for p in PERIODS], help_text="interval"
    )
    expression = forms.CharField(required=False, help_text='cron: e.g. "0 9 * * 1-5"')
    timezone = forms.ChoiceField(choices=ZONE_CHOICES, initial="UTC")
    notify_on = forms.MultipleChoiceField(
        required=False,
        choices=[(e, e) for e in NOTIFY_ON],
        initial=list(DEFAULT_NOTIFY_ON),
        widget=forms.CheckboxSelectMultiple,
    )
    max_retries = forms.IntegerField(initial=DEFAULT_MAX_RETRIES)

    class Meta:
        model = Job
        fields = ["owner"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.errors:  # a field the form could not read: nothing to hand the service yet
            return self.cleaned_data
        try:
            services.job_create_check(owner=self.cleaned_data["owner"], **self._job_input())
        except ApplicationError as exc:
            self._show(exc)
        return self.cleaned_data

    def create(self, *, actor) -> Job:
        return services.job_create(
            owner=self.cleaned_data["owner"], actor=actor, **self._job_input()
        )

    def _job_input(self) -> dict[str, Any]:
        data = self.cleaned_data
        given = {name: data.get(name) for name in SCHEDULE_FIELDS}
        schedule = Schedule(
            data["schedule_type"], **{k: None if v == "" else v for k, v in given.items()}
        )
        return {
            "name": data["name"],
            "kind": data["kind"],
            "params": data.get("params"),
            "schedule": schedule,
            "timezone": data["timezone"],
            "notify_on": data.get("notify_on") or [],
            "max_retries": data["max_retries"],
        }

    def _show(self, exc: ApplicationError) -> None:
        """Each of the service's details on its field (a schedule's on its own fields); a
        quota's message on what it limits: the owner's jobs, or the schedule."""
        if exc.code == "quota_exceeded":
            self.add_error(self._quota_field(exc.details.get("quota")), exc.message)
            return
        if not exc.details:
            self.add_error(None, exc.message)
        for key, value in exc.details.items():
            if key == "schedule" and isinstance(value, dict):
                for part, messages in value.items():
                    self._add(part if part in SCHEDULE_FIELDS else "schedule_type", messages)
            else:
                self._add(key, value)

    def _quota_field(self, quota: str | None) -> str:
        if quota == "min_mailing_interval_seconds":  # the schedule runs too often
            by_type = {INTERVAL: "every", CRON: "expression"}
            return by_type.get(self.cleaned_data["schedule_type"], "schedule_type")
        return "owner"  # who has too many active jobs

    def _add(self, field: str, messages: Any) -> None:
        self.add_error(field if field in self.fields else None, error_lines(messages))
