"""The Celery app: configured from Django settings (CELERY_*), tasks in `<app>/celery_tasks.py`."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from celery import Celery, bootsteps, signals
from kombu import Exchange, Queue
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskplatform.settings.dev")


def _worker_counts_into_files() -> None:
    """A `celery worker` (every pool process) counts runs and emails into files under
    VAR_DIR/prometheus-worker, which the web's /metrics sums with its own (taskplatform/
    metrics.py). prometheus_client reads PROMETHEUS_MULTIPROC_DIR when first imported, so it
    is set here, the first module the worker loads — the Procfile and compose commands stay
    plain. An operator's own PROMETHEUS_MULTIPROC_DIR wins."""
    celery_command = "celery" in Path(sys.argv[0]).parts[-2:]  # `celery` or `python -m celery`
    worker = celery_command and "worker" in sys.argv[1:]
    if worker and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        var = os.environ.get("VAR_DIR") or str(Path(__file__).resolve().parent.parent / "var")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(var) / "prometheus-worker")


_worker_counts_into_files()

# `sqlite:///path` names the embedded default's broker (taskplatform/embedded_broker.py), so
# the URL alone says which broker it is — in settings, and in the environment a test hands a
# child process. Registered by its path: kombu imports it when a connection first opens.
TRANSPORT_ALIASES.setdefault("sqlite", "taskplatform.embedded_broker:Transport")

app = Celery("taskplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Named queues so slow maintenance never starves reminders; tasks pick one with queue=...
QUEUES = ("default", "notifications", "maintenance")
app.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES]
app.autodiscover_tasks(related_name="celery_tasks")


class HeartbeatStep(bootsteps.StartStopStep):
    """Writes the worker's heartbeat from the worker's own timer while it runs."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        from .heartbeat import beat

        beat("worker")
        self.tref = worker.timer.call_repeatedly(
            settings.HEARTBEAT_INTERVAL, beat, ("worker",), priority=10
        )

    def stop(self, worker):
        if self.tref:
            self.tref.cancel()
            self.tref = None


app.steps["worker"].add(HeartbeatStep)


# The request id travels with the message, so a worker's log lines name the request
# that caused them.
@signals.before_task_publish.connect
def _attach_request_id(headers=None, **kwargs):
    from .context import current_request_id

    if headers is not None and "request_id" not in headers:
        headers["request_id"] = current_request_id()


_request_id_tokens: dict = {}


@signals.task_prerun.connect
def _restore_request_id(task_id=None, task=None, **kwargs):
    from .context import clean_request_id, request_id_var

    incoming = getattr(task.request, "request_id", None) if task else None
    _request_id_tokens[task_id] = request_id_var.set(clean_request_id(incoming))


@signals.task_postrun.connect
def _forget_request_id(task_id=None, **kwargs):
    # an eager task runs inside its caller: give the caller its own id back
    from .context import request_id_var

    token = _request_id_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: nothing to restore
            request_id_var.reset(token)


@signals.task_prerun.connect
def _beat_pending_clear(task=None, **kwargs):
    """A task beat sent has started: beat may send the next one (taskplatform/beat.py)."""
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    if getattr(request, "celery_beat_task", False) or headers.get("celery_beat_task"):
        from .beat import pending_clear

        pending_clear(task.name)


# CELERY_DB_REUSE_MAX keeps connections across tasks (Celery's fixup then closes them only
# every 2,000 tasks), so after a database restart a worker process would keep its dead
# connection and fail every task with "the connection is closed". Django's own per-request
# rule, applied per task: drop a connection that errored and no longer answers (or outlived
# CONN_MAX_AGE), and health-check it before its next use (CONN_HEALTH_CHECKS).
@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_broken_db_connections(task=None, **kwargs):
    if task is not None and getattr(task.request, "is_eager", False):
        return  # runs inside its caller's transaction: not ours to close
    from django.db import DatabaseError, InterfaceError, close_old_connections

    # closing a dead connection may complain: it is gone either way
    with contextlib.suppress(DatabaseError, InterfaceError):
        close_old_connections()
