"""Bulk statements of the dispatcher and of the together path, written out: a pass over
1,667 due jobs spent 0.8 s of Python in bulk_update's CASE expressions and bulk_create's
per-object preparation (and the published runs had to be read back to be sent); a message
of 20 reminders made 40 UPDATEs to record them.

All are plain SQL over a VALUES list (PostgreSQL, and SQLite from 3.35: UPDATE … FROM,
INSERT … RETURNING), with values adapted by the connection as the ORM would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from jobs.models import Job, JobRun


def _values(rows: list, width: int) -> str:
    row = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([row] * len(rows))


def _moment(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def runs_create(slots: list[tuple[int, datetime]], *, now: datetime) -> list[tuple[int, int]]:
    """A scheduled run for each (job id, slot); a slot that already has its run is skipped
    (the unique (job, scheduled_for) constraint). A run whose slot has come is marked as
    handed to the broker (`enqueued_at` = now): the caller publishes it next, or takes the
    mark back; one due later waits unmarked for its time (job_runs_publish_due). Returns
    (run id, job id) of the new runs marked, in the order given."""
    if not slots:
        return []
    q = connection.ops.quote_name
    columns = ", ".join(
        q(c)
        for c in (
            "created_at",
            "updated_at",
            "job_id",
            "trigger",
            "scheduled_for",
            "status",
            "attempt",
            "enqueued_at",
            "claimed_by",
            "deliveries",
            "error",
        )
    )
    at = _moment(now)
    # names from the models and placeholders only: the values travel as parameters
    sql = (
        f"INSERT INTO {q(JobRun._meta.db_table)} ({columns})"  # noqa: S608
        f" SELECT %s, %s, column1, %s, column2, %s, 1,"
        f" CASE WHEN column2 <= %s THEN %s END, '', 0, ''"
        f" FROM (VALUES {_values(slots, 2)}) AS v WHERE 1 = 1"  # (SQLite: WHERE before ON)
        f" ON CONFLICT DO NOTHING RETURNING id, job_id, enqueued_at"
    )
    params: list = [at, at, JobRun.Trigger.SCHEDULE, JobRun.Status.QUEUED, at, at]
    for job_id, slot in slots:
        params += [job_id, _moment(slot)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        marked = {job_id: pk for pk, job_id, enqueued in cursor.fetchall() if enqueued}
    return [(marked[job_id], job_id) for job_id, _ in slots if job_id in marked]


def jobs_write(jobs: list[Job]) -> None:
    """Save each job's new next_run_at, status and updated_at in one statement."""
    if not jobs:
        return
    q = connection.ops.quote_name
    table = q(Job._meta.db_table)
    # a column of NULLs alone (every job done) has no type on PostgreSQL: name it
    moment = "v.column2::timestamptz" if connection.vendor == "postgresql" else "v.column2"
    sql = (  # names and placeholders only, as above
        f"UPDATE {table} SET next_run_at = {moment}, status = v.column3,"  # noqa: S608
        f" updated_at = v.column4 FROM (VALUES {_values(jobs, 4)}) AS v"
        f" WHERE {table}.id = v.column1"
    )
    params: list = []
    for job in jobs:
        params += [job.pk, _moment(job.next_run_at), job.status, _moment(job.updated_at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def runs_succeed(done: list[tuple[JobRun, Any]], *, started: datetime, now: datetime) -> None:
    """Queued runs claimed and finished in the same transaction (jobs/run_together.py):
    `succeeded` with their results, started at `started`, claimed by their message."""
    if not done:
        return
    q = connection.ops.quote_name
    table = q(JobRun._meta.db_table)
    result = JobRun._meta.get_field("result")
    sql = (  # names and placeholders only, as above
        f"UPDATE {table} SET status = %s, started_at = %s, finished_at = %s,"  # noqa: S608
        f" updated_at = %s, claimed_by = %s, deliveries = deliveries + 1,"
        f" result = v.column2 FROM (VALUES {_values(done, 2)}) AS v"
        f" WHERE {table}.id = v.column1"
    )
    first = done[0][0]
    params: list = [
        JobRun.Status.SUCCEEDED,
        _moment(started),
        _moment(now),
        _moment(now),
        first.claimed_by,
    ]
    for run, value in done:
        params += [run.pk, result.get_db_prep_save(value, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def jobs_succeeded(last_runs: dict[int, int], *, now: datetime) -> None:
    """Jobs {id: its run that just succeeded}: failures reset, last run recorded."""
    if not last_runs:
        return
    q = connection.ops.quote_name
    table = q(Job._meta.db_table)
    rows = list(last_runs.items())
    sql = (  # names and placeholders only, as above
        f"UPDATE {table} SET consecutive_failures = 0, last_run_id = v.column2,"  # noqa: S608
        f" updated_at = %s FROM (VALUES {_values(rows, 2)}) AS v"
        f" WHERE {table}.id = v.column1"
    )
    params: list = [_moment(now)]
    for job_id, run_id in rows:
        params += [job_id, run_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
