"""Retention: delete old runs, notifications and dead refresh tokens (audit only on request)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from audit.models import AuditEvent
from audit.services import audit_record
from jobs.models import Job, JobRun
from notifications.models import Notification

BATCH = 2000
FINISHED_RUNS = [
    JobRun.Status.SUCCEEDED,
    JobRun.Status.FAILED,
    JobRun.Status.RETRYING,
    JobRun.Status.CANCELLED,
]


@dataclass(frozen=True)
class Retention:
    runs_days: int = 90
    notifications_days: int = 90
    tokens_days: int = 7  # refresh tokens expired this long ago (blacklisted or not)
    audit_days: int | None = None  # audit events are kept unless asked


def _targets(policy: Retention) -> dict[str, QuerySet]:
    now = timezone.now()
    runs = JobRun.objects.filter(
        status__in=FINISHED_RUNS, created_at__lt=now - timedelta(days=policy.runs_days)
    ).exclude(pk__in=Job.objects.filter(last_run__isnull=False).values("last_run"))
    targets = {
        "runs": runs,
        "notifications": Notification.objects.filter(
            status__in=Notification.FINISHED,
            created_at__lt=now - timedelta(days=policy.notifications_days),
        ),
        "tokens": OutstandingToken.objects.filter(
            expires_at__lt=now - timedelta(days=policy.tokens_days)
        ),
        # one-off schedule rows no job points at any more
        "clocked_schedules": ClockedSchedule.objects.filter(
            Q(job__isnull=True) & Q(periodictask__isnull=True)
        ),
    }
    if policy.audit_days is not None:
        targets["audit_events"] = AuditEvent.objects.filter(
            created_at__lt=now - timedelta(days=policy.audit_days)
        )
    return targets


def prune(
    policy: Retention, *, dry_run: bool = False, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Delete in batches (short transactions); returns how many rows each kind lost."""
    counts = {}
    for name, queryset in _targets(policy).items():
        if dry_run:
            counts[name] = queryset.count()
            continue
        deleted = 0
        while True:
            ids = list(queryset.values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            model = queryset.model
            if model is AuditEvent:
                AuditEvent.objects.filter(pk__in=ids).purge()
            else:
                model.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
            if progress:
                progress(name, len(ids))
        counts[name] = deleted
    if not dry_run:
        audit_record(action="ops.pruned", details={"deleted": counts, "policy": policy.__dict__})
    return counts
