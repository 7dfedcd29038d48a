from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from taskplatform.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_the_platforms_periodic_work_is_in_the_database_and_names_real_tasks():
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    rows = {row.name: row for row in PeriodicTask.objects.select_related("interval")}
    sweeper = rows["notifications: re-enqueue stuck notifications"]
    due_soon = rows["tasks: due-soon reminders"]
    assert (sweeper.interval.every, sweeper.interval.period) == (1, "minutes")
    assert (due_soon.interval.every, due_soon.interval.period) == (5, "minutes")
    for row in (sweeper, due_soon):
        assert row.enabled and row.queue == "maintenance"
        assert row.task in celery_app.tasks


def test_jobs_and_upkeep_rows():
    celery_app.loader.import_default_modules()
    rows = {row.name: row for row in PeriodicTask.objects.select_related("interval", "crontab")}
    assert "jobs: dispatcher" not in rows  # beat dispatches itself (jobs/beat.py)
    assert (rows["jobs: sweeper"].interval.every, rows["jobs: sweeper"].interval.period) == (
        1,
        "minutes",
    )
    prune = rows["operations: prune"]
    assert (prune.crontab.minute, prune.crontab.hour) == ("0", "2")
    watch = rows["operations: health watch"]
    assert (watch.interval.every, watch.interval.period) == (5, "minutes")
    for name in [
        "jobs: sweeper",
        "operations: prune",
        "operations: health watch",
    ]:
        assert rows[name].task in celery_app.tasks and rows[name].queue == "maintenance"
