from __future__ import annotations

import django_filters

from jobs import kinds
from jobs.models import Job, JobRun
from taskplatform.api.filters import ChoiceInFilter


class JobFilter(django_filters.FilterSet):
    kind = ChoiceInFilter(choices=[(k, k) for k in kinds.names()], help_text="e.g. `reminder`")
    status = ChoiceInFilter(choices=Job.Status.choices, help_text="e.g. `active,paused`")

    class Meta:
        model = Job
        fields = ["kind", "status"]


class JobRunFilter(django_filters.FilterSet):
    status = ChoiceInFilter(choices=JobRun.Status.choices, help_text="e.g. `failed,retrying`")
    trigger = ChoiceInFilter(choices=JobRun.Trigger.choices)

    class Meta:
        model = JobRun
        fields = ["status", "trigger"]
