"""The web app's jobs pages: the list, the schedule builder with its next-5-runs preview,
a job's page with its run history, and pause / resume / run now / delete — for the owner,
not for anyone else; bad input is a 422 and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from jobs.models import Job, JobRun
from jobs.schedules import CRON, INTERVAL, ONCE, Schedule
from jobs.tests.factories import JobFactory, JobRunFactory
from tasks.tests.factories import TaskFactory
from web.views.jobs import schedule_words

from .pages import HTMX, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return UserFactory(email="ada@example.com", timezone="Europe/Berlin")


@pytest.fixture
def client(owner: User) -> Client:
    return signed_in_client(owner)


def builder(**overrides) -> dict:
    """What the builder sends for an hourly reminder; `overrides` change fields."""
    data = {
        "name": "Stand-up",
        "kind": "reminder",
        "params-message": "Stand-up in 5 minutes",
        "params-task_id": "",
        "schedule_type": "interval",
        "every": "1",
        "period": "hours",
        "timezone": "Europe/Berlin",
        "notify_on": ["failed"],
        "max_retries": "3",
    }
    return data | overrides


# --- who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/app/jobs/", "/app/jobs/new/", "/app/jobs/1/", "/app/jobs/1/edit/"]
)
def test_an_anonymous_visitor_is_sent_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/app/login/?next=")


def test_another_users_job_is_not_found(client):
    theirs = JobFactory()
    for url in ("", "edit/", "preview/"):
        assert client.get(f"/app/jobs/{theirs.pk}/{url}").status_code == 404
    for action in ("pause", "resume", "run", "delete"):
        assert client.post(f"/app/jobs/{theirs.pk}/{action}/").status_code == 404
    assert Job.objects.filter(pk=theirs.pk, status="active").exists()


def test_actions_are_posts_only(client, owner):
    job = JobFactory(owner=owner)
    for action in ("pause", "resume", "run", "delete"):
        assert client.get(f"/app/jobs/{job.pk}/{action}/").status_code == 405
    assert Job.objects.filter(pk=job.pk).exists()


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_the_owners_jobs_with_schedule_status_and_runs(client, owner):
    job = JobFactory(owner=owner, name="Stand-up", schedule="0 9 * * 1-5", timezone="Europe/Berlin")
    run = JobRunFactory(job=job, status=JobRun.Status.FAILED)
    Job.objects.filter(pk=job.pk).update(last_run=run)
    JobFactory(owner=owner, name="Digest", kind="task_digest", status="paused")
    JobFactory(name="Not mine")
    response = client.get("/app/jobs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stand-up" in page and "Digest" in page and "Not mine" not in page
    assert "Weekdays at 09:00 (Europe/Berlin)" in page
    assert "Every 15 minutes" in page
    assert '<span class="badge paused">Paused</span>' in page
    assert '<span class="badge failed">Failed</span>' in page
    # the next run in the person's zone (Berlin), marked up as a time
    local = job.next_run_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert f'datetime="{local.isoformat()}"' in page
    assert 'hx-trigger="live:run from:body, live:job from:body"' in page
    assert 'aria-current="page"' in page  # the nav's Jobs link


def test_the_list_filters_by_status_and_kind_and_answers_htmx_with_the_results(client, owner):
    JobFactory(owner=owner, name="Active reminder")
    JobFactory(owner=owner, name="Paused reminder", status="paused")
    JobFactory(owner=owner, name="Paused digest", kind="task_digest", status="paused")
    response = client.get(
        "/app/jobs/?status=paused&kind=reminder", headers=HTMX | {"HX-Target": "job-results"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith('<div id="job-results"')
    assert "Paused reminder" in page
    assert "Active reminder" not in page and "Paused digest" not in page
    # a value no select offers is ignored
    assert "Active reminder" in client.get("/app/jobs/?status=nope").content.decode()


def test_the_list_is_paginated_in_a_constant_number_of_queries(
    client, owner, django_assert_max_num_queries
):
    JobFactory(owner=owner)
    with django_assert_max_num_queries(8) as one:
        client.get("/app/jobs/")
    JobFactory.create_batch(24, owner=owner)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get("/app/jobs/")
    assert "Page 1 of 2" in response.content.decode()
    assert "Page 2 of 2" in client.get("/app/jobs/?page=2").content.decode()


# --- the builder ---------------------------------------------------------------------------------


def test_the_builder_starts_in_the_persons_zone_with_a_preview(client):
    response = client.get("/app/jobs/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="Europe/Berlin" selected>' in page
    assert 'hx-get="/app/jobs/fields/schedule/"' in page  # the type select swaps its fields
    assert 'hx-trigger="input changed delay:300ms from:#job-form, change from:#job-form' in page
    assert page.count("<li><time datetime=") == 5  # the next 5 runs, every hour
    assert "Every hour" in page


def test_creating_an_interval_job(client, owner):
    response = client.post("/app/jobs/new/", builder(every="30", period="minutes"))
    job = Job.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == f"/app/jobs/{job.pk}/"
    assert (job.name, job.kind, job.params) == (
        "Stand-up",
        "reminder",
        {"message": "Stand-up in 5 minutes"},
    )
    assert (job.interval.every, job.interval.period) == (30, "minutes")
    assert job.timezone == "Europe/Berlin" and job.notify_on == ["failed"]
    assert AuditEvent.objects.filter(action="job.created", actor=owner).exists()


def test_creating_a_cron_job_in_another_zone(client, owner):
    client.post(
        "/app/jobs/new/",
        builder(schedule_type="cron", expression="0  9 * * 1-5", timezone="America/New_York"),
    )
    job = Job.objects.get(owner=owner)
    assert job.timezone == "America/New_York"
    assert job.crontab.hour == "9" and job.crontab.day_of_week == "1-5"
    assert job.next_run_at.astimezone(ZoneInfo("America/New_York")).hour == 9


def test_a_one_off_is_read_on_the_clock_of_the_zone_chosen(client, owner):
    next_year = timezone.now().year + 1
    client.post(
        "/app/jobs/new/",
        builder(schedule_type="once", run_at=f"{next_year}-01-15T09:00", timezone="Asia/Tokyo"),
    )
    job = Job.objects.get(owner=owner)
    assert job.clocked.clocked_time == datetime(next_year, 1, 15, 0, 0, tzinfo=UTC)


def test_a_kinds_params_come_from_its_own_fields(client, owner):
    task = TaskFactory(owner=owner)
    client.post("/app/jobs/new/", builder(**{"params-task_id": str(task.pk)}))
    assert Job.objects.get(owner=owner).params == {
        "message": "Stand-up in 5 minutes",
        "task_id": task.pk,
    }
    client.post(
        "/app/jobs/new/",
        builder(
            name="Logs",
            kind="file_cleanup",
            **{"params-older_than_days": "30", "params-name_pattern": "*.log"},
        ),
    )
    assert Job.objects.get(name="Logs").params == {
        "older_than_days": 30,
        "name_pattern": "*.log",
        "dry_run": False,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"schedule_type": "cron", "expression": "61 * * * *"}, "expression", "Not a valid cron"),
        ({"schedule_type": "cron", "expression": "* *"}, "expression", "5 fields"),
        (
            {"schedule_type": "once", "run_at": "2001-01-01T09:00"},
            "run_at",
            "must be scheduled in the future",
        ),
        ({"schedule_type": "once", "run_at": ""}, "run_at", "Required for this type."),
        ({"every": "0"}, "every", "greater than or equal to 1"),
        ({"every": "5", "period": "minutes"}, "every", "at least 10 minutes apart"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Select a valid choice"),
        ({"params-message": ""}, "params-message", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"max_retries": "99"}, "max_retries", "less than or equal to 10"),
    ],
)
def test_bad_input_is_a_422_with_the_fields_error_and_creates_nothing(
    client, owner, overrides, field, message
):
    response = client.post("/app/jobs/new/", builder(**overrides))
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}_error"' in page  # the error is tied to its field
    assert not Job.objects.filter(owner=owner).exists()
    assert '<form id="job-form"' in page  # the whole builder again


def test_another_users_task_is_refused(client, owner):
    theirs = TaskFactory()
    response = client.post("/app/jobs/new/", builder(**{"params-task_id": str(theirs.pk)}))
    assert response.status_code == 422
    assert not Job.objects.exists()


def test_the_schedule_fields_follow_the_type(client):
    response = client.get("/app/jobs/fields/schedule/?schedule_type=cron", headers=HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="schedule-fields"')
    assert 'name="expression"' in page and 'value="0 9 * * 1-5"' in page
    assert 'name="every"' not in page
    assert response["HX-Trigger-After-Settle"] == "schedule-fields"  # the preview looks again
    page = client.get("/app/jobs/fields/schedule/?schedule_type=once").content.decode()
    assert 'type="datetime-local"' in page
    page = client.get("/app/jobs/fields/schedule/?schedule_type=interval&every=7").content.decode()
    assert 'name="every" value="7"' in page


def test_the_params_fields_follow_the_kind(client):
    page = client.get("/app/jobs/fields/params/?kind=file_cleanup").content.decode()
    assert page.lstrip().startswith('<div id="params-fields"')
    assert 'name="params-older_than_days"' in page and 'name="params-dry_run"' in page
    assert (
        "has no settings"
        in client.get("/app/jobs/fields/params/?kind=task_digest").content.decode()
    )


# --- the preview ---------------------------------------------------------------------------------


def preview_times(page: str) -> list[datetime]:
    return [
        datetime.fromisoformat(chunk.split('"')[0]) for chunk in page.split('<time datetime="')[1:]
    ]


def test_the_preview_shows_the_next_5_runs_and_follows_the_interval(client):
    every_15 = preview_times(
        client.get("/app/jobs/preview/", builder(every="15", period="minutes")).content.decode()
    )
    every_2h = preview_times(client.get("/app/jobs/preview/", builder(every="2")).content.decode())
    assert len(every_15) == len(every_2h) == 5
    assert {b - a for a, b in pairwise(every_15)} == {timedelta(minutes=15)}
    assert {b - a for a, b in pairwise(every_2h)} == {timedelta(hours=2)}


def test_the_preview_shows_a_cron_schedule_in_its_zone(client):
    response = client.get(
        "/app/jobs/preview/",
        builder(schedule_type="cron", expression="30 8 * * *", timezone="Asia/Tokyo"),
    )
    page = response.content.decode()
    times = preview_times(page)
    assert len(times) == 5
    assert all(t.utcoffset() == timedelta(hours=9) and (t.hour, t.minute) == (8, 30) for t in times)
    assert "JST" in page and "your time" in page  # and in the person's own zone (Berlin)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schedule_type": "cron", "expression": "99 * * * *"}, "Not a valid cron expression"),
        ({"schedule_type": "once", "run_at": "2001-01-01T09:00"}, "in the future"),
        ({"every": "2", "period": "minutes"}, "at least 10 minutes apart"),
        ({"timezone": "Nowhere/Atlantis"}, "Time zone: Select a valid choice"),
    ],
)
def test_the_preview_says_what_is_wrong(client, overrides, message):
    response = client.get("/app/jobs/preview/", builder(**overrides))
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and "<time" not in page


def test_the_preview_of_a_one_off_is_one_run(client):
    when = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page = client.get("/app/jobs/preview/", builder(schedule_type="once", run_at=when)).content
    assert len(preview_times(page.decode())) == 1


def test_the_preview_ignores_fields_it_does_not_need(client):
    # a name not yet typed doesn't hide the times
    assert (
        len(preview_times(client.get("/app/jobs/preview/", builder(name="")).content.decode())) == 5
    )


# --- editing -------------------------------------------------------------------------------------


def test_editing_shows_the_job_and_saves_changes(client, owner):
    job = JobFactory(owner=owner, name="Stand-up", schedule="0 9 * * 1-5", timezone="Europe/Berlin")
    page = client.get(f"/app/jobs/{job.pk}/edit/").content.decode()
    assert 'value="Stand-up"' in page and 'value="0 9 * * 1-5"' in page
    assert '<option value="cron" selected>' in page
    assert f'hx-get="/app/jobs/{job.pk}/preview/"' in page
    response = client.post(
        f"/app/jobs/{job.pk}/edit/",
        builder(
            name="Stand-up late",
            schedule_type="cron",
            expression="30 10 * * 1-5",
            **{"params-message": "Stand up"},
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/app/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.name == "Stand-up late" and job.crontab.minute == "30" and job.crontab.hour == "10"
    event = AuditEvent.objects.get(action="job.updated")
    assert set(event.details["changed"]) == {"name", "schedule"}


def test_editing_with_a_bad_schedule_changes_nothing(client, owner):
    job = JobFactory(owner=owner, schedule="0 9 * * *")
    response = client.post(
        f"/app/jobs/{job.pk}/edit/",
        builder(name="New name", schedule_type="cron", expression="not cron at all x"),
    )
    assert response.status_code == 422
    job.refresh_from_db()
    assert job.name != "New name" and job.crontab.hour == "9"
    assert not AuditEvent.objects.filter(action="job.updated").exists()


def test_an_unchanged_one_off_keeps_its_time_to_the_second(client, owner):
    when = (timezone.now() + timedelta(days=2)).replace(second=42, microsecond=0)
    job = JobFactory(owner=owner, schedule=Schedule(ONCE, run_at=when), timezone="Europe/Berlin")
    local = when.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/app/jobs/{job.pk}/edit/",
        builder(
            name=job.name, schedule_type="once", run_at=local, **{"params-message": "Stand up"}
        ),
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.clocked.clocked_time == when
    assert not AuditEvent.objects.filter(action="job.updated").exists()  # nothing changed


def test_the_preview_of_a_jobs_own_schedule_is_its_next_runs(client, owner):
    job = JobFactory(owner=owner, schedule="interval", timezone="Europe/Berlin")
    start = timezone.now() + timedelta(minutes=3)
    Job.objects.filter(pk=job.pk).update(next_run_at=start)
    page = client.get(
        f"/app/jobs/{job.pk}/preview/", builder(every="15", period="minutes")
    ).content.decode()
    assert preview_times(page)[0] == start.replace(microsecond=start.microsecond)


# --- a job's page --------------------------------------------------------------------------------


def test_a_jobs_page_shows_settings_next_runs_and_history(client, owner):
    job = JobFactory(owner=owner, name="Stand-up", schedule="0 9 * * *", timezone="Asia/Tokyo")
    JobRunFactory(job=job, status=JobRun.Status.SUCCEEDED, trigger="schedule")
    JobRunFactory(job=job, status=JobRun.Status.FAILED, error="SMTP said no")
    response = client.get(f"/app/jobs/{job.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Stand-up</h1>" in page
    assert "Every day at 09:00 (Asia/Tokyo)" in page and "<code>0 9 * * *</code>" in page
    assert "Stand up" in page  # the reminder's message
    assert page.count("JST</span></time>") == 5  # the next 5 runs, in the job's zone
    assert '<span class="badge failed">Failed</span>' in page and "SMTP said no" in page
    assert '<span class="badge succeeded">Succeeded</span>' in page
    assert "Pause" in page and "Resume" not in page
    assert 'hx-trigger="live:run from:body"' in page
    assert "hx-confirm=" in page


def test_the_run_history_is_paginated_and_answers_htmx_alone(client, owner):
    job = JobFactory(owner=owner)
    JobRunFactory.create_batch(25, job=job)
    response = client.get(f"/app/jobs/{job.pk}/", headers=HTMX | {"HX-Target": "run-history"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="run-history"')
    assert "Page 1 of 2" in page and "<h1>" not in page
    assert "Page 2 of 2" in client.get(f"/app/jobs/{job.pk}/?page=2").content.decode()


def test_pausing_and_resuming_answer_the_page_part_with_a_toast(client, owner):
    job = JobFactory(owner=owner)
    response = client.post(f"/app/jobs/{job.pk}/pause/", headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="job-detail">') and "Resume" in page
    job.refresh_from_db()
    assert job.status == "paused"
    assert AuditEvent.objects.filter(action="job.paused", actor=owner).exists()

    response = client.post(f"/app/jobs/{job.pk}/resume/", headers=HTMX)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == "active"
    assert AuditEvent.objects.filter(action="job.resumed", actor=owner).exists()


def test_a_refused_action_is_a_409_with_its_message_and_changes_nothing(client, owner):
    job = JobFactory(owner=owner, status="paused")
    response = client.post(f"/app/jobs/{job.pk}/pause/", headers=HTMX)
    assert response.status_code == 409
    assert "<p data-message>Only an active job can be paused.</p>" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "paused"
    assert not AuditEvent.objects.filter(action="job.paused").exists()
    # without htmx: the message on the job's page
    response = client.post(f"/app/jobs/{job.pk}/pause/", follow=True)
    assert "Only an active job can be paused." in response.content.decode()


def test_run_now_adds_a_run_to_the_history(client, owner, django_capture_on_commit_callbacks):
    job = JobFactory(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/app/jobs/{job.pk}/run/", headers=HTMX)
    assert response.status_code == 200
    run = JobRun.objects.get(job=job)
    assert run.trigger == "manual"
    assert AuditEvent.objects.filter(action="job.run_requested", actor=owner).exists()
    page = client.get(f"/app/jobs/{job.pk}/").content.decode()
    assert "Manual" in page and "1 run</p>" in page


def test_deleting_a_job(client, owner):
    job = JobFactory(owner=owner, name="Old")
    response = client.post(f"/app/jobs/{job.pk}/delete/", headers=HTMX)
    assert response.status_code == 204 and response["HX-Location"] == "/app/jobs/"
    assert not Job.objects.filter(pk=job.pk).exists()
    assert AuditEvent.objects.filter(action="job.deleted", actor=owner).exists()
    assert "“Old” is deleted." in client.get("/app/jobs/").content.decode()


def test_the_actions_need_the_csrf_token(owner):
    job = JobFactory(owner=owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(f"/app/jobs/{job.pk}/pause/").status_code == 403
    assert client.post("/app/jobs/new/", builder()).status_code == 403
    job.refresh_from_db()
    assert job.status == "active" and Job.objects.count() == 1


# --- a schedule in words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (Schedule(INTERVAL, every=1, period="hours"), "Every hour"),
        (Schedule(INTERVAL, every=15, period="minutes"), "Every 15 minutes"),
        (Schedule(CRON, expression="0 9 * * 1-5"), "Weekdays at 09:00 (UTC)"),
        (Schedule(CRON, expression="5 7 * * 1"), "Mondays at 07:05 (UTC)"),
        (Schedule(CRON, expression="0 3 1 * *"), "Monthly on day 1 at 03:00 (UTC)"),
        (Schedule(CRON, expression="*/5 * * * *"), "Every 5 minutes (UTC)"),
        (Schedule(CRON, expression="0 9-17 * * *"), "Cron 0 9-17 * * * (UTC)"),
        (
            Schedule(ONCE, run_at=datetime(2030, 12, 1, 8, 0, tzinfo=UTC)),
            "Once, Sun 1 Dec 2030 08:00 (UTC)",
        ),
    ],
)
def test_a_schedule_in_words(schedule, words):
    assert schedule_words(schedule, "UTC") == words


def test_the_preview_counts_against_the_per_person_limit(settings, client):
    """The preview computes schedules as the person types: a script asking it in a loop
    (604 in 10 s in a red-team pass) meets the same per-person limit as changes."""
    settings.RATELIMITS = {**settings.RATELIMITS, "api": "3/m"}
    answers = [
        client.get("/app/jobs/preview/", builder(), headers={"HX-Request": "true"}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
