"""Job quotas (issue 13): active jobs per user, and how often a mailing job may run.

The attack they stop: one new account creating 150 every-minute reminders, 150 mails/min.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from accounts.models import User
from audit.models import AuditEvent
from jobs import kinds, services
from jobs.models import Job
from jobs.schedules import INTERVAL, Schedule
from taskplatform.exceptions import ApplicationError
from taskplatform.testing import client_for

from .factories import JobFactory
from .helpers import in_seconds

pytestmark = pytest.mark.django_db
URL = "/api/v1/jobs/"
EVERY_MINUTE = [
    {"type": "interval", "every": 1, "period": "minutes"},
    {"type": "cron", "expression": "* * * * *"},
]
EVERY_15_MINUTES = {"type": "interval", "every": 15, "period": "minutes"}


def create(client, **body):
    payload = {
        "name": "Ping",
        "kind": "reminder",
        "params": {"message": "ping"},
        "schedule": EVERY_15_MINUTES,
        "notify_on": ["failed"],  # no "created" mail per job: the hourly limit would audit
        **body,
    }
    return client.post(URL, payload, format="json")


def refused(response, quota: str) -> dict:
    assert response.status_code == 413, response.json()
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded" and error["details"]["quota"] == quota, error
    return error


def refusals(user: User) -> list[dict]:
    events = AuditEvent.objects.filter(action="quota.refused").order_by("id")
    assert all(
        (e.actor_id, e.target_type, e.target_id) == (user.pk, "accounts.user", str(user.pk))
        for e in events
    )
    return [event.details for event in events]


# --- the shortest schedule of a mailing job ---------------------------------------------------


def test_150_every_minute_reminders_are_all_refused(user_client, user):
    for attempt in range(150):
        response = create(user_client, schedule=EVERY_MINUTE[attempt % 2])
        error = refused(response, "min_mailing_interval_seconds")
        assert error["details"] == {
            "quota": "min_mailing_interval_seconds",
            "limit": 600,
            "interval_seconds": 60,
        }
        assert "at least 10 minutes apart" in error["message"]
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="job.created").exists()
    details = refusals(user)
    assert len(details) == 150
    assert details[0] == {
        "quota": "min_mailing_interval_seconds",
        "limit": 600,
        "interval_seconds": 60,
        "kind": "reminder",
    }


@pytest.mark.parametrize(
    ("kind", "params", "schedule", "timezone", "gap"),
    [
        ("reminder", None, {"type": "cron", "expression": "0,1 9 * * *"}, "UTC", 60),
        ("reminder", None, {"type": "cron", "expression": "*/5 9-17 * * 1-5"}, "UTC", 300),
        # every minute on the 1st of the month: seen whatever today's date
        ("reminder", None, {"type": "cron", "expression": "* * 1 * *"}, "UTC", 60),
        ("task_digest", {}, {"type": "interval", "every": 9, "period": "minutes"}, "UTC", 540),
        ("task_digest", {}, {"type": "cron", "expression": "0,5 * * * *"}, "Asia/Tokyo", 300),
    ],
)
def test_mailing_schedules_closer_than_the_limit_are_refused(
    user_client, user, kind, params, schedule, timezone, gap
):
    body = {"kind": kind, "schedule": schedule, "timezone": timezone}
    if params is not None:
        body["params"] = params
    error = refused(create(user_client, **body), "min_mailing_interval_seconds")
    assert error["details"]["interval_seconds"] == gap
    assert not Job.objects.exists()
    assert refusals(user)[0]["kind"] == kind


@pytest.mark.parametrize(
    ("kind", "params", "schedule"),
    [
        ("reminder", None, {"type": "cron", "expression": "0 9 * * *"}),
        ("reminder", None, {"type": "cron", "expression": "*/10 * * * *"}),  # exactly the limit
        ("reminder", None, {"type": "interval", "every": 10, "period": "minutes"}),
        ("reminder", None, {"type": "once", "run_at": "2030-01-01T09:00:00Z"}),
        ("task_digest", {}, {"type": "cron", "expression": "0 8 * * 1-5"}),
        # its work sends no email (a failure's mail is an outcome, not the work)
        ("file_cleanup", {"older_than_days": 30}, EVERY_MINUTE[0]),
        ("file_cleanup", {"older_than_days": 30}, EVERY_MINUTE[1]),
    ],
)
def test_schedules_far_enough_apart_and_non_mailing_kinds_are_allowed(
    user_client, kind, params, schedule
):
    body = {"kind": kind, "schedule": schedule}
    if params is not None:
        body["params"] = params
    response = create(user_client, **body)
    assert response.status_code == 201, response.json()
    assert not AuditEvent.objects.filter(action="quota.refused").exists()


def test_a_job_mailing_on_every_success_is_a_mailing_job(user_client):
    body = {"kind": "file_cleanup", "params": {"older_than_days": 30}, "schedule": EVERY_MINUTE[0]}
    refused(create(user_client, notify_on=["succeeded"], **body), "min_mailing_interval_seconds")
    assert create(user_client, notify_on=["failed"], **body).status_code == 201


def test_every_kind_says_whether_it_sends_email():
    assert {name: kinds.sends_email(name) for name in kinds.names()} == {
        "file_cleanup": False,
        "reminder": True,
        "task_digest": True,
    }


def test_an_update_to_a_fast_mailing_schedule_is_refused_and_changes_nothing(user_client, user):
    job = JobFactory(owner=user)  # a reminder every 15 minutes
    cleanup = JobFactory(owner=user, kind="file_cleanup", schedule="* * * * *")
    attempts = [
        (job, {"schedule": EVERY_MINUTE[1]}),
        (job, {"schedule": EVERY_MINUTE[0], "timezone": "Europe/Berlin"}),
        (cleanup, {"kind": "reminder", "params": {"message": "x"}}),  # now it would mail
        (cleanup, {"notify_on": ["succeeded"]}),
    ]
    before = list(Job.objects.order_by("id").values())
    for target, body in attempts:
        response = user_client.patch(f"{URL}{target.pk}/", body, format="json")
        assert (
            refused(response, "min_mailing_interval_seconds")["details"]["interval_seconds"] == 60
        )
    assert list(Job.objects.order_by("id").values()) == before
    assert [d["kind"] for d in refusals(user)] == [
        "reminder",
        "reminder",
        "reminder",
        "file_cleanup",
    ]
    assert not AuditEvent.objects.filter(action="job.updated").exists()


def test_a_change_the_quota_does_not_look_at_leaves_an_older_fast_job_alone(user_client, user):
    older = JobFactory(owner=user, schedule="* * * * *")  # made before the quota existed
    response = user_client.patch(f"{URL}{older.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200


# --- active jobs per user ---------------------------------------------------------------------


def test_the_51st_active_job_is_refused(user_client, user):
    statuses = [create(user_client, name=f"Every 15 min {n}").status_code for n in range(150)]
    assert statuses == [201] * 50 + [413] * 100
    assert Job.objects.filter(owner=user, status="active").count() == 50
    error = refused(create(user_client), "active_jobs")
    assert error["details"] == {"quota": "active_jobs", "limit": 50, "used": 50}
    assert "pause or cancel one" in error["message"]
    details = refusals(user)
    assert len(details) == 101
    assert details[-1] == {"quota": "active_jobs", "limit": 50, "used": 50, "kind": "reminder"}


def test_paused_completed_and_cancelled_jobs_do_not_count(user_client, user, other_user):
    JobFactory.create_batch(47, owner=user)
    for status in ("paused", "completed", "cancelled"):
        JobFactory.create_batch(3, owner=user, status=status)
    JobFactory.create_batch(50, owner=other_user)  # another user's jobs are theirs
    assert create(user_client).status_code == 201
    assert (
        create(user_client, kind="file_cleanup", params={"older_than_days": 1}).status_code == 201
    )
    assert create(user_client).status_code == 201
    refused(create(user_client), "active_jobs")  # 50 active now


def test_pausing_one_makes_room_and_resuming_at_the_limit_is_refused(user_client, user):
    jobs = JobFactory.create_batch(50, owner=user)
    refused(create(user_client), "active_jobs")
    assert user_client.post(f"{URL}{jobs[0].pk}/pause/").status_code == 200
    assert create(user_client).status_code == 201
    response = user_client.post(f"{URL}{jobs[0].pk}/resume/")
    assert refused(response, "active_jobs")["details"]["used"] == 50
    jobs[0].refresh_from_db()
    assert jobs[0].status == "paused"
    assert [d["quota"] for d in refusals(user)] == ["active_jobs", "active_jobs"]
    assert not AuditEvent.objects.filter(action="job.resumed").exists()
    assert user_client.post(f"{URL}{jobs[1].pk}/cancel/").status_code == 200
    assert user_client.post(f"{URL}{jobs[0].pk}/resume/").status_code == 200


def test_an_update_that_reactivates_a_completed_job_counts(user_client, user):
    done = JobFactory(owner=user, schedule=None, status="completed", next_run_at=None)
    JobFactory.create_batch(50, owner=user)
    later = {"schedule": {"type": "once", "run_at": in_seconds(3600).isoformat()}}
    refused(user_client.patch(f"{URL}{done.pk}/", later, format="json"), "active_jobs")
    done.refresh_from_db()
    assert (done.status, done.next_run_at) == ("completed", None)
    # a change that leaves it completed is no new active job
    assert user_client.patch(f"{URL}{done.pk}/", {"name": "Old"}, format="json").status_code == 200
    Job.objects.filter(owner=user, status="active").first().delete()
    response = user_client.patch(f"{URL}{done.pk}/", later, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_a_limit_of_0_is_no_limit(user_client, user, settings):
    settings.JOBS_MAX_ACTIVE_PER_USER = 0
    settings.JOBS_MIN_MAILING_INTERVAL_SECONDS = 0
    JobFactory.create_batch(60, owner=user)
    for schedule in EVERY_MINUTE:
        assert create(user_client, schedule=schedule).status_code == 201
    job = Job.objects.filter(owner=user, status="active").first()
    assert user_client.post(f"{URL}{job.pk}/pause/").status_code == 200
    assert user_client.post(f"{URL}{job.pk}/resume/").status_code == 200
    assert not AuditEvent.objects.filter(action="quota.refused").exists()


def test_other_limits_come_from_the_settings(user_client, settings):
    settings.JOBS_MAX_ACTIVE_PER_USER = 2
    settings.JOBS_MIN_MAILING_INTERVAL_SECONDS = 3600
    error = refused(create(user_client), "min_mailing_interval_seconds")
    assert error["details"] == {
        "quota": "min_mailing_interval_seconds",
        "limit": 3600,
        "interval_seconds": 900,
    }
    assert "at least 1 hour apart" in error["message"]
    hourly = {"type": "interval", "every": 1, "period": "hours"}
    assert [create(user_client, schedule=hourly).status_code for _ in range(3)] == [201, 201, 413]


# --- the admin and the CLI show the refusals --------------------------------------------------

JOBS_ADMIN = "/admin/jobs/job/add/"


def admin_form(user: User, **extra) -> dict:
    return {
        "owner": user.pk,
        "name": "Ops reminder",
        "kind": "reminder",
        "params": '{"message": "Stand-up"}',
        "timezone": "UTC",
        "max_retries": 2,
        "schedule_type": "interval",
        "every": 15,
        "period": "minutes",
        **extra,
    }


def test_the_admin_form_shows_a_quota_on_the_field_it_limits(admin_client, user):
    cases = [
        ({"every": 1}, "every", "at least 10 minutes apart"),
        ({"schedule_type": "cron", "expression": "0,1 9 * * *"}, "expression", "1 minute apart"),
    ]
    for extra, field, message in cases:
        response = admin_client.post(JOBS_ADMIN, admin_form(user, **extra))
        assert response.status_code == 200, extra
        errors = response.context["adminform"].form.errors
        assert list(errors) == [field] and message in errors[field][0], errors
    JobFactory.create_batch(50, owner=user)
    response = admin_client.post(JOBS_ADMIN, admin_form(user))
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["owner"] and "pause or cancel one" in errors["owner"][0], errors
    assert Job.objects.filter(owner=user).count() == 50
    assert [d["quota"] for d in refusals(user)] == [
        "min_mailing_interval_seconds",
        "min_mailing_interval_seconds",
        "active_jobs",
    ]


def test_the_admin_resume_action_warns_of_the_quota(admin_client, user):
    paused = JobFactory(owner=user, status="paused")
    JobFactory.create_batch(50, owner=user)
    body = {"action": "resume", "_selected_action": [paused.pk]}
    response = admin_client.post("/admin/jobs/job/", body, follow=True)
    assert response.status_code == 200
    assert b"the most allowed per user is 50" in response.content
    paused.refresh_from_db()
    assert paused.status == "paused"
    assert [d["quota"] for d in refusals(user)] == ["active_jobs"]


def test_create_job_prints_the_quota_s_message(user):
    argv = [
        "--owner",
        user.email,
        "--name",
        "x",
        "--kind",
        "reminder",
        "--params",
        '{"message": "x"}',
    ]
    with pytest.raises(CommandError) as caught:
        call_command("create_job", *argv, "--cron", "* * * * *")
    assert str(caught.value) == (
        "This job sends email, so its runs must be at least 10 minutes apart; "
        "this schedule runs 1 minute apart."
    )
    JobFactory.create_batch(50, owner=user)
    with pytest.raises(CommandError) as caught:
        call_command("create_job", *argv, "--every", "15")
    assert str(caught.value) == (
        "There are 50 active jobs already, the most allowed per user is 50: "
        "pause or cancel one first."
    )
    assert len(refusals(user)) == 2


# --- with real transactions -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_refusal_s_audit_event_outlives_the_rolled_back_transaction(user):
    response = create(client_for(user), schedule=EVERY_MINUTE[0])
    refused(response, "min_mailing_interval_seconds")
    JobFactory.create_batch(50, owner=user)
    refused(create(client_for(user)), "active_jobs")  # refused under the owner's lock
    assert [d["quota"] for d in refusals(user)] == ["min_mailing_interval_seconds", "active_jobs"]
    assert Job.objects.filter(owner=user).count() == 50


@pytest.mark.django_db(transaction=True)
def test_two_creates_racing_for_the_last_place_one_wins(user):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    JobFactory.create_batch(49, owner=user)
    results: list[str] = []

    def create_one() -> None:
        try:
            services.job_create(
                owner=user,
                name="Racer",
                kind="reminder",
                params={"message": "x"},
                schedule=Schedule(INTERVAL, every=15, period="minutes"),
            )
            results.append("created")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    with transaction.atomic():  # hold the owner's row so that both wait for it at once
        User.objects.select_for_update().get(pk=user.pk)
        threads = [threading.Thread(target=create_one) for _ in range(2)]
        for thread in threads:
            thread.start()
        _wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["created", "quota_exceeded"]
    assert Job.objects.filter(owner=user, status="active").count() == 50
    assert len(refusals(user)) == 1


def _wait_for_lock_waiters(count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees one
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} sessions never waited for the owner's lock")
