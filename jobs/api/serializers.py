from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs import kinds
from jobs.models import Job, JobRun
from jobs.schedules import MAX_EVERY, NO_OFFSET, PERIODS, TYPES, Schedule, from_job, upcoming
from jobs.validation import NAME_MAX_LENGTH, NOTIFY_ON
from taskplatform.api.fields import DateTimeField, iso_utc, parse_iso_datetime
from taskplatform.api.parsers import check_json_value
from taskplatform.timezones import zone_check
from taskplatform.validators import validate_one_line

MAX_PARAMS_BYTES = 10_000
MAX_PARAMS_DEPTH = 16


class OffsetDateTimeField(DateTimeField):
    """An ISO 8601 time that says its offset: a bare "09:00" would silently mean UTC."""

    def to_internal_value(self, value):
        # an impossible time ("2026-13-01…", Feb 30, hour 25) parses to None: the parent
        # then answers "wrong format"
        parsed = parse_iso_datetime(value)
        if parsed is not None and parsed.tzinfo is None:
            self.fail("no_offset")
        return super().to_internal_value(value)

    default_error_messages = {"no_offset": NO_OFFSET}


class ScheduleSerializer(serializers.Serializer):
    """`once` needs run_at; `interval` every + period; `cron` a 5-field expression."""

    # shape only: which keys each type needs and whether a cron expression parses are
    # jobs.schedules.schedule_check's rules (said here: the docstring is the schema's text)

    type = serializers.ChoiceField(choices=list(TYPES))
    run_at = OffsetDateTimeField(required=False, help_text="once: when (future), with offset.")
    every = serializers.IntegerField(required=False, min_value=1, max_value=MAX_EVERY)
    period = serializers.ChoiceField(choices=list(PERIODS), required=False)
    expression = serializers.CharField(
        required=False, max_length=255, help_text='cron: e.g. "0 9 * * 1-5", in the timezone.'
    )

    def validate(self, attrs):
        if "type" not in attrs:  # a PATCH validates this partially: check it here
            raise serializers.ValidationError({"type": ["This field is required."]})
        return Schedule(**attrs)

    def to_representation(self, instance):
        return instance.as_dict()


class JobWriteSerializer(serializers.Serializer):
    # the shape of a job's input; its rules are jobs.services' (job_create, job_update),
    # whose ApplicationError the API renders (a comment: a docstring enters the schema)

    name = serializers.CharField(
        max_length=NAME_MAX_LENGTH, min_length=1, validators=[validate_one_line]
    )
    kind = serializers.ChoiceField(choices=kinds.names())
    params = serializers.JSONField(required=False, help_text="Depends on the kind (docs/api.md).")
    schedule = ScheduleSerializer()
    timezone = serializers.CharField(
        required=False, max_length=63, help_text="IANA name; default: the owner's time zone."
    )
    notify_on = serializers.ListField(
        child=serializers.ChoiceField(choices=NOTIFY_ON), required=False, max_length=3
    )
    max_retries = serializers.IntegerField(
        required=False, min_value=0, max_value=settings.JOBS_MAX_RETRIES
    )

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        try:  # PostgreSQL's jsonb refuses NUL characters: a 500 on save otherwise
            check_json_value(value, max_depth=MAX_PARAMS_DEPTH, allow_nul=False)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc).capitalize() + ".") from None
        if len(json.dumps(value)) > MAX_PARAMS_BYTES:
            raise serializers.ValidationError("Too large.")
        return value


class RunSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobRun.Status.choices)
    scheduled_for = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = [
            "id",
            "status",
            "trigger",
            "scheduled_for",
            "started_at",
            "finished_at",
            "attempt",
            "result",
            "error",
        ]
        read_only_fields = fields


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    params = serializers.JSONField()
    schedule = serializers.SerializerMethodField()
    timezone = serializers.CharField()
    status = serializers.ChoiceField(choices=Job.Status.choices)
    notify_on = serializers.ListField(child=serializers.ChoiceField(choices=NOTIFY_ON))
    max_retries = serializers.IntegerField()
    next_run_at = serializers.DateTimeField(allow_null=True)
    last_run = RunSummarySerializer(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ScheduleSerializer)
    def get_schedule(self, job: Job) -> dict:
        return from_job(job).as_dict()


class JobDetailSerializer(JobSerializer):
    upcoming_runs = serializers.SerializerMethodField(help_text="The next 5 run times.")

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_upcoming_runs(self, job: Job) -> list[str | None]:
        if job.status != Job.Status.ACTIVE:
            return []
        times = upcoming(from_job(job), zone_check(job.timezone), job.next_run_at)
        return [iso_utc(value) for value in times]
