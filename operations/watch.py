"""The health watch: every 5 minutes, is the platform well? Email ADMINS when that changes.

Checks the database, cache, broker, worker and beat heartbeats (as /health/ready does),
the backlog (job runs and notifications waiting longer than they should) and the rate of
failed runs in the last hour. The last verdict is kept in the database, so operators get
one email when things go bad and one when they recover — never one every 5 minutes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from jobs.models import JobRun
from notifications.models import Notification
from taskplatform.health import readiness

from .models import WatchState

log = logging.getLogger(__name__)
NAME = "platform"


def find_problems() -> list[str]:
    problems = []
    _, components = readiness()
    problems += [f"{name} is down" for name, state in components.items() if state != "ok"]
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WATCH_BACKLOG_SECONDS)
    runs = JobRun.objects.filter(status=JobRun.Status.QUEUED, scheduled_for__lt=stale).count()
    notes = Notification.objects.filter(
        status=Notification.Status.QUEUED, next_attempt_at__lt=stale
    ).count()
    if runs:
        problems.append(f"{runs} job run(s) waiting over {settings.WATCH_BACKLOG_SECONDS} s")
    if notes:
        problems.append(f"{notes} notification(s) waiting over {settings.WATCH_BACKLOG_SECONDS} s")
    hour = JobRun.objects.filter(finished_at__gte=now - timedelta(hours=1))
    finished = hour.count()
    failed = hour.filter(status=JobRun.Status.FAILED).count()
    if finished >= settings.WATCH_MIN_RUNS and failed / finished > settings.WATCH_FAILED_RATE:
        problems.append(f"{failed} of {finished} job runs failed in the last hour")
    return problems


def health_watch() -> dict:
    """Check, compare with the last verdict, email ADMINS on a change. Returns the verdict."""
    problems = find_problems()
    healthy = not problems
    with transaction.atomic():
        state, _ = WatchState.objects.select_for_update().get_or_create(name=NAME)
        changed = state.healthy != healthy
        state.problems = problems
        if changed:
            state.healthy = healthy
            state.changed_at = timezone.now()
        state.save()
        if changed:
            action = "ops.health_recovered" if healthy else "ops.health_failing"
            audit_record(action=action, target=state, details={"problems": problems})
    if changed:
        _tell_admins(healthy, problems)
    return {"healthy": healthy, "problems": problems, "changed": changed}


def _tell_admins(healthy: bool, problems: list[str]) -> None:
    if healthy:
        subject, body = "Recovered: the platform is healthy again", "All checks pass again."
    else:
        subject = f"Failing: {problems[0]}" + (
            f" (+{len(problems) - 1})" if len(problems) > 1 else ""
        )
        body = "The health watch found:\n\n" + "\n".join(f"- {p}" for p in problems)
    if not settings.ADMINS:
        log.warning("health watch: %s (no ADMINS to tell)", subject)
        return
    try:  # straight to SMTP: the outbox needs the very broker that may be down
        mail_admins(subject, body + f"\n\n{settings.SITE_URL}/admin/\n", fail_silently=False)
    except Exception:
        log.exception("health watch: could not email ADMINS: %s", subject)
