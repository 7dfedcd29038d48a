"""Jobs and runs for tests, without the service: a valid beat row and next_run_at each."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from jobs.models import Job, JobRun
from jobs.schedules import INTERVAL, ONCE, Schedule, beat_row, cron, next_after
from taskplatform.timezones import zone_check


def as_schedule(value: Schedule | str | None) -> Schedule:
    """A Schedule from a test's shorthand: None (once, in an hour), "interval" (every 15
    minutes), a cron expression, or a Schedule as it is."""
    if value is None:
        return Schedule(ONCE, run_at=timezone.now() + timedelta(hours=1))
    if value == "interval":
        return Schedule(INTERVAL, every=15, period="minutes")
    if isinstance(value, str):
        return cron(value)
    return value


class JobFactory(factory.django.DjangoModelFactory):
    """`JobFactory(schedule="0 9 * * *")`: the schedule (see as_schedule) sets the beat row
    and the first run, as job_create would; no audit event, no notification."""

    class Meta:
        model = Job

    class Params:
        schedule = "interval"
        resolved = factory.LazyAttribute(lambda o: as_schedule(o.schedule))  # once per job
        beat = factory.LazyAttribute(lambda o: beat_row(o.resolved, o.timezone))

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Job {n}")
    kind = "reminder"
    params = factory.LazyAttribute(
        lambda o: {"message": "Stand up"} if o.kind == "reminder" else {}
    )
    timezone = "UTC"
    notify_on = factory.LazyFunction(lambda: ["failed"])
    max_retries = 3
    crontab = factory.LazyAttribute(lambda o: o.beat["crontab"])
    interval = factory.LazyAttribute(lambda o: o.beat["interval"])
    clocked = factory.LazyAttribute(lambda o: o.beat["clocked"])
    next_run_at = factory.LazyAttribute(
        lambda o: next_after(o.resolved, zone_check(o.timezone), timezone.now())
    )


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    job = factory.SubFactory(JobFactory)
    trigger = JobRun.Trigger.MANUAL
    scheduled_for = factory.LazyFunction(timezone.now)
