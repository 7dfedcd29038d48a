"""The job services called directly: defaults, every rule's error at once, explicit updates,
stopping an owner's jobs; and the factories."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from jobs import selectors, services
from jobs.models import Job, JobRun
from jobs.schedules import INTERVAL, ONCE, Schedule, cron, from_job
from taskplatform.exceptions import ApplicationError

from .factories import JobFactory, JobRunFactory
from .helpers import in_seconds, make_job

pytestmark = pytest.mark.django_db
EVERY_15 = Schedule(INTERVAL, every=15, period="minutes")


def create(owner, **changes):
    values = {"name": "Water", "kind": "reminder", "params": {"message": "Drink"}}
    return services.job_create(owner=owner, **{"schedule": EVERY_15, **values, **changes})


def test_defaults_are_the_owner_s_time_zone_and_job_mail_preferences(user):
    assert create(user).timezone == "UTC"
    user.timezone = "Asia/Tokyo"
    user.save()
    job = create(user)
    # the preferences' defaults: job_failed on, job_created and job_succeeded off
    assert (job.timezone, job.notify_on, job.max_retries) == ("Asia/Tokyo", ["failed"], 3)
    assert create(user, timezone="Europe/Paris", notify_on=[]).notify_on == []
    assert create(user, kind="task_digest", params=None).params == {}


def test_every_field_s_problem_is_reported_at_once(user):
    with pytest.raises(ApplicationError) as caught:
        create(
            user,
            name="  ",
            schedule=Schedule(INTERVAL, every=0, period="minutes"),
            timezone="Mars/Base",
            notify_on=["failed", "sometimes"],
            max_retries=-1,
        )
    assert caught.value.code == "validation_error"
    assert caught.value.message == "The request is invalid: see details."
    assert caught.value.details == {
        "name": ["This field may not be blank."],
        "schedule": {"every": ["Ensure this value is greater than or equal to 1."]},
        "timezone": ['"Mars/Base" is not an IANA time zone.'],
        "notify_on": {"1": ['"sometimes" is not a valid choice.']},
        "max_retries": ["Ensure this value is greater than or equal to 0."],
    }
    assert not Job.objects.exists() and not AuditEvent.objects.exists()


def test_params_and_the_first_run_are_checked_after_the_fields(user):
    with pytest.raises(ApplicationError) as caught:
        create(user, kind="launch_rocket")
    assert caught.value.details == {
        "kind": ['Unknown kind "launch_rocket". Choose from: file_cleanup, reminder, task_digest.']
    }
    with pytest.raises(ApplicationError) as caught:
        create(user, params={}, schedule=Schedule(ONCE, run_at=in_seconds(-60)))
    assert caught.value.details == {"params": {"message": ["This field is required."]}}
    with pytest.raises(ApplicationError) as caught:
        create(user, schedule=Schedule(ONCE, run_at=in_seconds(-60)))
    assert caught.value.details == {
        "schedule": {"run_at": ["A one-off job must be scheduled in the future."]}
    }


def test_names_are_stripped_and_notify_on_put_in_order(user):
    job = create(user, name="  Water  ", notify_on=("failed", "created", "failed"))
    assert (job.name, job.notify_on) == ("Water", ["created", "failed"])


def test_update_changes_only_what_is_given(user):
    job = make_job(user, schedule="0 9 * * *", notify_on=["failed"])
    before = job.next_run_at
    job = services.job_update(job=job, actor=user, name="Renamed", notify_on=["succeeded"])
    assert (job.name, job.notify_on, job.next_run_at) == ("Renamed", ["succeeded"], before)
    job = services.job_update(job=job, actor=user, timezone="Asia/Tokyo")
    assert job.timezone == "Asia/Tokyo" and job.next_run_at != before
    assert from_job(job) == cron("0 9 * * *") and str(job.crontab.timezone) == "Asia/Tokyo"
    events = AuditEvent.objects.filter(action="job.updated").order_by("id")
    assert [e.details["changed"] for e in events] == [["name", "notify_on"], ["timezone"]]
    assert services.job_update(job=job, actor=user, name="Renamed") == job  # nothing changed
    assert AuditEvent.objects.filter(action="job.updated").count() == 2


def test_update_refuses_bad_values_before_saying_the_job_is_cancelled(user):
    job = make_job(user)
    services.job_cancel(job=job, actor=user)
    with pytest.raises(ApplicationError) as caught:
        services.job_update(job=job, actor=user, timezone="Nowhere/Land")
    assert caught.value.code == "validation_error"
    with pytest.raises(ApplicationError) as caught:
        services.job_update(job=job, actor=user, name="x")
    assert caught.value.code == "conflict"


def test_stopping_an_owner_s_jobs_pauses_them_and_cancels_their_queued_runs(user, other_user):
    active, paused = JobFactory(owner=user), JobFactory(owner=user, status=Job.Status.PAUSED)
    queued = JobRunFactory(job=active)
    running = JobRunFactory(job=paused, status=JobRun.Status.RUNNING)
    theirs = JobFactory(owner=other_user)
    their_run = JobRunFactory(job=theirs)

    assert services.jobs_stop_for_owner(owner=user) == {"jobs_paused": 1, "runs_cancelled": 1}

    for row in (active, queued, running, theirs, their_run):
        row.refresh_from_db()
    assert active.status == "paused" and queued.status == "cancelled" and queued.finished_at
    assert running.status == "running"
    assert theirs.status == "active" and their_run.status == "queued"
    assert selectors.job_count(owner=user) == 2 and selectors.job_count(owner=other_user) == 1


@pytest.mark.parametrize(
    ("schedule", "row"),
    [("interval", "interval"), ("0 9 * * 1-5", "crontab"), (None, "clocked")],
)
def test_the_factory_makes_valid_jobs(schedule, row):
    job = JobFactory(schedule=schedule, timezone="Europe/Berlin")
    assert getattr(job, f"{row}_id") is not None
    assert [job.crontab_id, job.interval_id, job.clocked_id].count(None) == 2
    assert job.next_run_at > timezone.now()
    assert selectors.job_list(user=job.owner).get() == job
    if row == "crontab":
        assert str(job.crontab.timezone) == "Europe/Berlin"
    assert JobFactory(kind="task_digest").params == {}
