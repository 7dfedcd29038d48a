"""Thin Celery tasks of the jobs app."""

from __future__ import annotations

from celery import shared_task

from taskplatform.task_retry import RETRY_WHEN_THE_DATABASE_IS_DOWN

from . import runner, sweeper


@shared_task(
    bind=True, name="jobs.run", queue="default", acks_late=True, **RETRY_WHEN_THE_DATABASE_IS_DOWN
)
def run_job(self, run_ids: int | list[int]) -> list[str | None]:
    """One run, or several of one kind (the dispatcher's message: jobs/dispatch.py); each is
    claimed first, so a duplicate message does nothing (and the same message redelivered
    after its worker died takes its runs over)."""
    ids = run_ids if isinstance(run_ids, list) else [run_ids]
    return runner.runs_execute(run_ids=ids, message_id=self.request.id or "")


@shared_task(name="jobs.sweep", queue="maintenance", acks_late=True)
def sweep_jobs() -> dict:
    """Beat, every minute: re-send lost run messages, fail runs whose worker died."""
    return sweeper.job_runs_sweep()
