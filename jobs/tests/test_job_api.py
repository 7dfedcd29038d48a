"""The jobs API: create / list / detail / patch / delete, actions, runs; owner-scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from jobs.models import Job, JobRun
from notifications.models import Notification
from tasks.tests.factories import TaskFactory

from .helpers import in_seconds, make_job

pytestmark = pytest.mark.django_db
URL = "/api/v1/jobs/"


def iso(value) -> str:
    return value.isoformat()


def create(client, **body):
    payload = {
        "name": "Morning",
        "kind": "reminder",
        "params": {"message": "Stand up"},
        "schedule": {"type": "cron", "expression": "0 9 * * 1-5"},
        **body,
    }
    return client.post(URL, payload, format="json")


def test_create_each_kind_with_each_schedule(user_client, user):
    task = TaskFactory(owner=user)
    bodies = [
        {"kind": "reminder", "params": {"message": "Pay rent", "task_id": task.pk}},
        {"kind": "file_cleanup", "params": {"older_than_days": 30, "name_pattern": "*.log"}},
        {"kind": "task_digest", "params": {}},
    ]
    schedules = [
        {"type": "once", "run_at": iso(in_seconds(600))},
        {"type": "interval", "every": 15, "period": "minutes"},
        {"type": "cron", "expression": "0 9 * * 1-5"},
    ]
    for body, schedule in zip(bodies, schedules, strict=True):
        response = create(user_client, schedule=schedule, timezone="Europe/Berlin", **body)
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["status"] == "active" and data["next_run_at"]
        assert data["schedule"]["type"] == schedule["type"]
        assert data["params"] == body["params"] | (
            {"dry_run": False} if body["kind"] == "file_cleanup" else {}
        )
        assert len(data["upcoming_runs"]) == (1 if schedule["type"] == "once" else 5)
    assert Job.objects.filter(owner=user).count() == 3
    assert AuditEvent.objects.filter(action="job.created").count() == 3


def test_cron_next_run_is_in_the_job_time_zone(user_client):
    data = create(
        user_client,
        schedule={"type": "cron", "expression": "0 9 * * *"},
        timezone="America/New_York",
    ).json()
    hours = {value[11:13] for value in data["upcoming_runs"]}
    assert hours <= {"13", "14"}  # 09:00 New York is 13:00 or 14:00 UTC


def test_timezone_defaults_to_the_owner_s(user_client, user):
    user.timezone = "Asia/Tokyo"
    user.save()
    assert create(user_client).json()["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"schedule": {"type": "once", "run_at": "2001-01-01T00:00:00Z"}}, "schedule"),
        ({"schedule": {"type": "once"}}, "schedule"),
        ({"schedule": {"type": "cron", "expression": "61 * * * *"}}, "schedule"),
        ({"schedule": {"type": "cron", "expression": "* * *"}}, "schedule"),
        ({"schedule": {"type": "interval", "every": 0, "period": "minutes"}}, "schedule"),
        ({"schedule": {"type": "interval", "every": 5, "period": "seconds"}}, "schedule"),
        ({"schedule": {"type": "weekly"}}, "schedule"),
        ({"schedule": "0 9 * * *"}, "schedule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"kind": "launch_rocket"}, "kind"),
        ({"params": {}}, "params"),
        ({"params": {"message": ""}}, "params"),
        ({"params": ["x"]}, "params"),
        ({"params": {"message": "x", "task_id": 99999999}}, "params"),
        ({"kind": "file_cleanup", "params": {"older_than_days": 0}}, "params"),
        ({"kind": "file_cleanup", "params": {"older_than_days": "many"}}, "params"),
        ({"notify_on": ["sometimes"]}, "notify_on"),
        ({"max_retries": 99}, "max_retries"),
        ({"name": ""}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"schedule": {"type": "once", "run_at": "2030-01-01T09:00:00"}}, "schedule"),
        ({"params": {"message": "x", "padding": "y" * 20_000}}, "params"),
    ],
)
def test_bad_input_is_a_400_with_field_details_and_creates_nothing(user_client, body, field):
    response = create(user_client, **body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert not Job.objects.exists()


def test_a_reminder_cannot_point_at_another_user_s_task(user_client, other_user):
    task = TaskFactory(owner=other_user, visibility="public")
    response = create(user_client, params={"message": "x", "task_id": task.pk})
    assert response.status_code == 400
    assert "task_id" in response.json()["error"]["details"]["params"]


def test_list_is_the_caller_s_own_with_filters(user_client, user, other_user):
    make_job(user, kind="reminder")
    make_job(user, kind="task_digest", schedule="interval")
    paused = make_job(user, kind="task_digest", schedule="0 8 * * *")
    paused.status = Job.Status.PAUSED
    paused.save()
    make_job(other_user)
    assert user_client.get(URL).json()["count"] == 3
    assert user_client.get(URL, {"kind": "task_digest"}).json()["count"] == 2
    assert user_client.get(URL, {"status": "active,paused"}).json()["count"] == 3
    assert user_client.get(URL, {"status": "paused"}).json()["results"][0]["id"] == paused.pk
    assert user_client.get(URL, {"status": "sleeping"}).status_code == 400
    assert user_client.get(URL, {"ordering": "next_run_at"}).status_code == 200


def test_other_users_jobs_are_404_everywhere(user_client, other_user):
    job = make_job(other_user)
    for method, suffix in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "pause/"),
        ("post", "resume/"),
        ("post", "cancel/"),
        ("post", "run/"),
        ("get", "runs/"),
    ]:
        response = getattr(user_client, method)(f"{URL}{job.pk}/{suffix}", {}, format="json")
        assert response.status_code == 404, (method, suffix)
        assert response.json()["error"]["code"] == "not_found"
    job.refresh_from_db()
    assert job.status == "active" and not job.runs.exists()


def test_staff_do_not_see_other_users_jobs_here(staff_client, user):
    job = make_job(user)
    assert staff_client.get(f"{URL}{job.pk}/").status_code == 404
    assert staff_client.get(URL).json()["count"] == 0


def test_anonymous_callers_get_401(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {}, format="json").status_code == 401


def test_patch_revalidates_and_recomputes_next_run(user_client, user):
    job = make_job(user, schedule="0 9 * * *")
    url = f"{URL}{job.pk}/"
    response = user_client.patch(
        url, {"schedule": {"type": "interval", "every": 2, "period": "hours"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    next_run = timezone.datetime.fromisoformat(response.json()["next_run_at"])
    assert timedelta(minutes=119) < next_run - timezone.now() <= timedelta(hours=2)
    assert response.json()["schedule"] == {"type": "interval", "every": 2, "period": "hours"}
    assert user_client.patch(url, {"kind": "file_cleanup"}, format="json").status_code == 400
    assert user_client.patch(url, {"params": {"message": ""}}, format="json").status_code == 400
    assert user_client.patch(url, {"timezone": "Nowhere/Land"}, format="json").status_code == 400
    ok = user_client.patch(
        url, {"name": "Renamed", "notify_on": ["failed", "succeeded"]}, format="json"
    )
    assert ok.json()["name"] == "Renamed" and ok.json()["notify_on"] == ["succeeded", "failed"]
    event = AuditEvent.objects.filter(action="job.updated").order_by("id").last()
    assert event.details["changed"] == ["name", "notify_on"]
    assert user_client.put(url, {}, format="json").status_code == 405


def test_pause_resume_cancel_and_their_conflicts(user_client, user):
    job = make_job(user, schedule="interval")
    url = f"{URL}{job.pk}/"
    assert user_client.post(url + "resume/").status_code == 409
    assert user_client.post(url + "pause/").json()["status"] == "paused"
    assert user_client.post(url + "pause/").json()["error"]["code"] == "conflict"
    resumed = user_client.post(url + "resume/").json()
    assert resumed["status"] == "active" and resumed["next_run_at"]
    cancelled = user_client.post(url + "cancel/").json()
    assert cancelled["status"] == "cancelled" and cancelled["next_run_at"] is None
    assert user_client.post(url + "cancel/").status_code == 409
    assert user_client.post(url + "run/").status_code == 409
    assert user_client.patch(url, {"name": "x"}, format="json").status_code == 409
    actions = list(
        AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True)
    )
    assert {"job.paused", "job.resumed", "job.cancelled"} <= set(actions)


def test_run_now_answers_202_and_the_run_is_recorded(
    user_client, user, django_capture_on_commit_callbacks
):
    job = make_job(user, params={"message": "Now please"})
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"{URL}{job.pk}/run/")
    assert response.status_code == 202
    assert response.json()["trigger"] == "manual"
    run = JobRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded"  # the eager worker ran it after commit
    assert Notification.objects.get(kind="reminder").body_text.count("Now please") == 1
    runs = user_client.get(f"{URL}{job.pk}/runs/").json()
    assert runs["count"] == 1 and runs["results"][0]["status"] == "succeeded"
    assert user_client.get(f"{URL}{job.pk}/runs/", {"status": "failed"}).json()["count"] == 0
    assert user_client.get(f"{URL}{job.pk}/runs/", {"status": "nope"}).status_code == 400
    detail = user_client.get(f"{URL}{job.pk}/").json()
    assert detail["last_run"]["id"] == run.pk and detail["last_run"]["status"] == "succeeded"


def test_delete_removes_the_job_and_its_runs(user_client, user):
    job = make_job(user)
    JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    assert user_client.delete(f"{URL}{job.pk}/").status_code == 204
    assert not Job.objects.exists() and not JobRun.objects.exists()
    assert AuditEvent.objects.filter(action="job.deleted").exists()
    assert user_client.get(f"{URL}{job.pk}/").status_code == 404


def test_created_notification_follows_notify_on(user_client, user):
    create(user_client, notify_on=["created"])
    create(user_client, notify_on=["failed"])
    assert Notification.objects.filter(kind="job_created").count() == 1


def test_patch_with_a_partial_schedule_is_a_400(user_client, user):
    job = make_job(user, schedule="interval")
    for schedule in [{}, {"every": 5}, {"type": "interval"}, {"type": "once"}]:
        response = user_client.patch(f"{URL}{job.pk}/", {"schedule": schedule}, format="json")
        assert response.status_code == 400, (schedule, response.json())
        assert "schedule" in response.json()["error"]["details"]


def test_duplicate_shared_schedule_rows_do_not_break_creation(user_client):
    from django_celery_beat.models import ClockedSchedule, IntervalSchedule

    run_at = in_seconds(3600).replace(microsecond=0)
    ClockedSchedule.objects.bulk_create([ClockedSchedule(clocked_time=run_at)] * 2)
    IntervalSchedule.objects.bulk_create([IntervalSchedule(every=15, period="minutes")] * 2)
    for schedule in [
        {"type": "once", "run_at": iso(run_at)},
        {"type": "interval", "every": 15, "period": "minutes"},
    ]:
        assert create(user_client, schedule=schedule).status_code == 201
