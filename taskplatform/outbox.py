"""Handing work kept in the database to the broker: the one way jobs and notifications publish.

Both apps write their work as rows first (a queued run, a queued notification) and hand a
message naming the row to the broker after commit; the row, not the message, keeps the time
(a retry is a row due later, never a countdown message). Two rules, written once here:

- `publish` finds the task by NAME in the Celery app's registry, so the code that publishes
  never imports the celery_tasks module it publishes to (those imports made import cycles:
  celery_tasks imports the services it calls). A broker that can't be reached is logged and
  answered False, never raised: the row keeps the work, and the app's periodic publisher
  hands it over later.
- `waiting` counts the messages a queue holds, so a periodic publisher can hold back while
  the workers have plenty.
- `backoff` is the delay before a retry: exponential with jitter, capped.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import random
from typing import Any

from celery import Task, current_app

log = logging.getLogger(__name__)

# one quick reconnect, then give up: the row waits for the next tick instead of a request
# waiting on the broker
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}


def publish(task_name: str, args: tuple, **options: Any) -> bool:
    """Send one message for the task named `task_name`; False when the broker refused it.

    `options` go to `apply_async` (queue, time limits …). In eager mode (tests) the task runs
    here and now, as any apply_async would.
    """
    task = _task(task_name)
    try:
        task.apply_async(args, retry_policy=RETRY_POLICY, **options)
    except Exception:
        log.warning(
            "broker unavailable: %s%r not published; the database keeps it for the next tick",
            task_name,
            args,
            exc_info=True,
        )
        return False
    return True


def waiting(queue: str) -> int | None:
    """How many messages wait in `queue` on the broker; None when it can't be told (eager
    mode, the broker unreachable, a queue never declared): callers then publish as usual."""
    app = current_app
    if app.conf.task_always_eager:
        return None
    try:
        with app.pool.acquire(block=True, timeout=2) as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
    except Exception:
        log.debug("could not count the messages waiting in %s", queue, exc_info=True)
        return None
    return int(declared.message_count)


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Seconds before retry number `attempt` (1, 2, …): base, 2 x base, 4 x base … up to
    `cap`, times a random 0.8-1.2 so that failures at the same moment don't retry together."""
    seconds = min(cap, base * 2 ** min(max(0, attempt - 1), 32))  # 2**32 x base: past any cap
    return seconds * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography


def _task(name: str) -> Task:
    app = current_app
    if name not in app.tasks:
        # a web process has not imported the task's module yet. Tasks named "<app>.<verb>"
        # live in <app>/celery_tasks.py: import just that one (autodiscovering every app's
        # costs a first request ~0.3 s); any other name, autodiscovery as a worker does it
        with contextlib.suppress(ImportError):
            importlib.import_module(f"{name.partition('.')[0]}.celery_tasks")
        if name not in app.tasks:
            app.loader.import_default_modules()
    return app.tasks[name]
