"""The jobs sweeper (beat, every minute): recover what a lost message or a dead worker left.

A queued run whose message went out long ago without a worker taking it had its message lost:
it is unmarked and published again. A run still `running` long past its kind's hard time
limit had its worker die: the runner fails it (and retries it as a new run). The same message
delivered again after a kill takes its run over sooner (jobs/runner.py); this is the backstop.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import JobRun

from . import kinds
from .dispatch import job_runs_publish_due
from .runner import run_lost

LOST_MARGIN_SECONDS = 60  # past a run's hard time limit, for clock skew between machines


def job_runs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-send runs whose message got lost; fail runs whose worker died; publish what is due."""
    now = now or timezone.now()
    resent = JobRun.objects.filter(
        status=JobRun.Status.QUEUED,
        enqueued_at__lt=now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS),
    ).update(enqueued_at=None)
    lost = job_runs_lost(now=now)
    for run_id in lost:
        run_lost(run_id=run_id)
    published = job_runs_publish_due(now=now)
    return {"resent": resent, "lost": len(lost), "published": published}


def job_runs_lost(*, now: datetime) -> list[int]:
    """Runs still `running` past their own kind's hard time limit: their worker is gone."""
    shortest = min(kinds.hard_time_limit(kind) for kind in [*kinds.names(), ""])
    candidates = (
        JobRun.objects.filter(
            status=JobRun.Status.RUNNING,
            started_at__lt=now - timedelta(seconds=shortest + LOST_MARGIN_SECONDS),
        )
        .order_by("started_at")
        .values_list("pk", "job__kind", "started_at")[:1000]
    )
    limit = timedelta(seconds=LOST_MARGIN_SECONDS)
    return [
        pk
        for pk, kind, started_at in candidates
        if started_at and started_at < now - timedelta(seconds=kinds.hard_time_limit(kind)) - limit
    ]
