"""Reads of jobs and runs: always scoped to the owner (another user's job is a 404)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import OuterRef, Q, QuerySet

from jobs.models import Job, JobRun

if TYPE_CHECKING:
    from accounts.models import User


def job_list(*, user: User) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).select_related(
        "crontab", "interval", "clocked", "last_run"
    )


def run_list(*, job: Job) -> QuerySet[JobRun]:
    return JobRun.objects.filter(job=job).order_by("-scheduled_for", "-id")


def job_count(*, owner: User) -> int:
    """How many jobs the owner has (any status)."""
    return Job.objects.filter(owner=owner).count()


def job_active_count(*, owner: User) -> int:
    """How many of the owner's jobs are active (what JOBS_MAX_ACTIVE_PER_USER counts)."""
    return Job.objects.filter(owner=owner, status=Job.Status.ACTIVE).count()


def run_failed_list(*, owner: User | int | OuterRef, since: datetime) -> QuerySet[JobRun]:
    """The owner's runs that failed for good since `since` (a retried attempt is not one);
    `owner` may be an OuterRef to a user id, for a planner's EXISTS."""
    return JobRun.objects.filter(
        Q(job__owner=owner), status=JobRun.Status.FAILED, finished_at__gte=since
    )
