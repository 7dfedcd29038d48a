"""Celery task options shared by the tasks that hold work in the database while they run."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# The database went away half-way (restart, failover): retry the same message (same task id)
# with back-off, so the retry takes over what the failed execution left claimed (a run still
# `running`, rows still `sending`) instead of leaving it to the sweepers' time-outs.
RETRY_WHEN_THE_DATABASE_IS_DOWN = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 20,
}
