"""The kinds of job. Adding a kind is adding one module here that defines:

- `NAME` — the kind's name in the API;
- `Params` — a DRF serializer validating the job's params (context: `owner`);
- `SENDS_EMAIL` — whether its work is sending email (a reminder, a digest): such a job's
  schedule may not run more often than JOBS_MIN_MAILING_INTERVAL_SECONDS allows. Mails a
  job sends about its own outcome (`notify_on`) don't make a kind a mailing one;
- `execute(job, job_run) -> dict` — does the work and returns the run's result (JSON). It
  raises `PermanentError` for a failure a retry can't fix; any other exception is retried.
- optionally `TIME_LIMIT` — seconds a run may take (else JOBS_RUN_TIME_LIMIT); the worker
  stops it then, and kills it RUN_TIME_LIMIT_GRACE seconds later (`time_limit`,
  `hard_time_limit` below: the dispatcher puts them on the run's message, the sweeper
  counts a run lost past the hard one).

- optionally `BATCHABLE = True` — runs take milliseconds and touch nothing but the database:
  the dispatcher sends up to JOBS_RUNS_PER_MESSAGE due together in one message, run one
  after the other.

Handlers must be idempotent per run: a retry of the same run (`job_run.first_run_id`) must
not repeat a side effect that already happened (e.g. key notifications on it).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType

from django.conf import settings

RUN_TIME_LIMIT_GRACE = 30  # seconds between a run's soft and hard time limit


class PermanentError(Exception):
    """A run failed in a way retrying can't fix (bad params, the target is gone)."""


@functools.cache
def registry() -> dict[str, ModuleType]:
    kinds = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kinds[module.NAME] = module
    return kinds


def get(name: str) -> ModuleType:
    return registry()[name]


def names() -> list[str]:
    return sorted(registry())


def sends_email(kind: str) -> bool:
    """Whether a run of `kind` sends email as its work (see SENDS_EMAIL above)."""
    return bool(get(kind).SENDS_EMAIL)


def batchable(kind: str) -> bool:
    """Whether several runs of `kind` may share one message (see BATCHABLE above)."""
    return bool(getattr(registry().get(kind), "BATCHABLE", False))


def time_limit(kind: str) -> int:
    """Seconds a run of `kind` may take before it is stopped (SoftTimeLimitExceeded)."""
    module = registry().get(kind)
    return getattr(module, "TIME_LIMIT", None) or settings.JOBS_RUN_TIME_LIMIT


def hard_time_limit(kind: str) -> int:
    """The longest a run of `kind` may take before its worker is killed."""
    return time_limit(kind) + RUN_TIME_LIMIT_GRACE
