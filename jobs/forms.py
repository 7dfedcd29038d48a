"""The admin's "add job" form: the API's validation, then the same service."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from rest_framework import serializers

from taskplatform.api.parsers import check_json_value
from taskplatform.exceptions import ApplicationError

from . import kinds, services
from .api.serializers import JobWriteSerializer
from .models import Job
from .schedules import CRON, INTERVAL, ONCE, PERIODS


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
    """Everything a job needs, for an operator creating one on a user's behalf."""

    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True))
    kind = forms.ChoiceField(choices=[(k, k) for k in kinds.names()])
    params = ParamsField(
        initial=dict, required=False, help_text='e.g. {"message": "Stand-up"} for a reminder'
    )
    schedule_type = forms.ChoiceField(choices=[(ONCE, ONCE), (INTERVAL, INTERVAL), (CRON, CRON)])
    run_at = forms.DateTimeField(
        required=False, help_text="once: ISO 8601 with offset, e.g. 2026-12-01T09:00:00+01:00"
    )
    every = forms.IntegerField(required=False, min_value=1, help_text="interval: how many")
    period = forms.ChoiceField(
        required=False, choices=[("", "—")] + [(p, p) for p in PERIODS], help_text="interval"
    )
    expression = forms.CharField(required=False, help_text='cron: e.g. "0 9 * * 1-5"')
    timezone = forms.ChoiceField(
        choices=[(z, z) for z in sorted(zoneinfo.available_timezones())], initial="UTC"
    )
    notify_on = forms.MultipleChoiceField(
        required=False,
        choices=[(e, e) for e in services.NOTIFY_ON],
        initial=["failed"],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Job
        fields = ["owner", "name", "kind", "params", "timezone", "notify_on", "max_retries"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        schedule = {"type": data["schedule_type"]}
        for name in ("run_at", "every", "period", "expression"):
            if data.get(name) not in (None, ""):
                value = data[name]
                schedule[name] = value.isoformat() if name == "run_at" else value
        api = JobWriteSerializer(
            data={
                "name": data["name"],
                "kind": data["kind"],
                "params": data.get("params") or {},
                "schedule": schedule,
                "timezone": data["timezone"],
                "notify_on": data.get("notify_on") or [],
                "max_retries": data["max_retries"],
            }
        )
        try:
            api.is_valid(raise_exception=True)
            valid = api.validated_data
            services.job_validate(
                owner=data["owner"],
                kind=valid["kind"],
                params=valid["params"],
                schedule=valid["schedule"],
                timezone=valid["timezone"],
            )
        except serializers.ValidationError as exc:
            raise forms.ValidationError(flatten_errors(exc.detail)) from None
        except ApplicationError as exc:
            raise forms.ValidationError(flatten_errors(exc.details) or exc.message) from None
        self.validated = valid
        return data

    def create(self, *, actor) -> Job:
        return services.job_create(owner=self.cleaned_data["owner"], actor=actor, **self.validated)


def flatten_errors(detail, prefix: str = "") -> list[str]:
    """DRF's nested error details as lines like "schedule.run_at: …"."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            lines += flatten_errors(
                value, prefix if key == "non_field_errors" else f"{prefix}{key}."
            )
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in flatten_errors(item, prefix)]
    return [f"{prefix.rstrip('.')}: {detail}" if prefix else str(detail)]
