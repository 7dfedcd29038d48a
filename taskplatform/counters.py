"""What the platform did, counted for Prometheus: runs, emails, reminders, errors.

Incremented where it happens (jobs/runner.py, notifications/sending.py and services.py,
taskplatform/api/errors.py) and served at /metrics (taskplatform/metrics.py). The worker
counts in its own processes: with PROMETHEUS_MULTIPROC_DIR set, every process writes its
counts to files in that folder, and /metrics sums the web's folder and the worker's
(WORKER_METRICS_DIR, docs/operations.md "Metrics").

Nothing here imports the HTTP layer, so domain code may count.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter

# a process given a folder that doesn't exist yet (the worker on a new machine) creates it
# before its first count is written there
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

JOB_RUNS = Counter(
    "job_runs_total", "Job runs finished, by kind and final status.", ["kind", "status"]
)
NOTIFICATIONS = Counter(
    "notifications_total",
    "Emails by kind and outcome: sent, failed, retrying (back to the queue), suppressed "
    "(over the hourly limit), held (waiting for a verified address).",
    ["kind", "outcome"],
)
REMINDERS = Counter("reminders_total", "Reminder emails sent or failed for good.", ["outcome"])
ERRORS = Counter(
    "errors_total",
    "Errors: unhandled exceptions answered 500 (source http), runs failed for good (job_run).",
    ["source"],
)


def run_counted(*, kind: str, status: str) -> None:
    JOB_RUNS.labels(kind, status).inc()
    if status == "failed":
        ERRORS.labels("job_run").inc()


def notifications_counted(*, kind: str, outcome: str, count: int = 1) -> None:
    if count <= 0:
        return
    NOTIFICATIONS.labels(kind, outcome).inc(count)
    if kind == "reminder" and outcome in ("sent", "failed"):
        REMINDERS.labels(outcome).inc(count)


def server_error_counted() -> None:
    ERRORS.labels("http").inc()
