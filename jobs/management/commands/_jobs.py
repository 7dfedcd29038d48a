"""Shared by the job commands: find a job by id or fail with a clear message."""

from __future__ import annotations

from django.core.management.base import CommandError

from jobs.models import Job


def job_by_id(job_id: int) -> Job:
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        raise CommandError(f"No job with id {job_id}.")
    return job
