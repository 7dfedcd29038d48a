"""Operators: the jobs admin (list, actions) and the list_jobs / cancel_job / run_job commands."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from jobs.models import Job, JobRun

from .helpers import make_job

pytestmark = pytest.mark.django_db
JOBS = "/admin/jobs/job/"
RUNS = "/admin/jobs/jobrun/"


def test_admin_lists_jobs_and_runs_with_filters(admin_client, user):
    job = make_job(user, name="Needle job")
    JobRun.objects.create(job=job, trigger="manual", scheduled_for=job.next_run_at)
    page = admin_client.get(JOBS, {"q": "Needle"})
    assert page.status_code == 200 and b"Needle job" in page.content
    assert (
        admin_client.get(JOBS, {"status__exact": "active", "kind": "reminder"}).status_code == 200
    )
    assert admin_client.get(f"{JOBS}{job.pk}/change/").status_code == 200
    assert admin_client.get(f"{JOBS}add/").status_code == 200  # the create form
    assert admin_client.get(RUNS, {"status__exact": "queued"}).status_code == 200
    assert admin_client.get(f"{RUNS}add/").status_code == 403


@pytest.mark.parametrize(
    ("action", "status"),
    [("pause", "paused"), ("cancel", "cancelled")],
)
def test_admin_actions_call_the_services(admin_client, user, action, status):
    job = make_job(user)
    response = admin_client.post(JOBS, {"action": action, "_selected_action": [job.pk]})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == status
    assert AuditEvent.objects.filter(
        action=f"job.{status}", actor__email="root@example.com"
    ).exists()


def test_admin_resume_and_run_now(admin_client, user, django_capture_on_commit_callbacks):
    job = make_job(user)
    Job.objects.filter(pk=job.pk).update(status="paused")
    admin_client.post(JOBS, {"action": "resume", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "active"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(JOBS, {"action": "run_now", "_selected_action": [job.pk]})
    assert JobRun.objects.get(job=job, trigger="manual").status == "succeeded"
    # a wrong state is a warning, not an error page
    response = admin_client.post(
        JOBS, {"action": "resume", "_selected_action": [job.pk]}, follow=True
    )
    assert b"Only a paused job can be resumed" in response.content


def test_list_jobs(user, other_user, capsys):
    make_job(user, name="Mine")
    make_job(other_user, name="Theirs", kind="task_digest")
    call_command("list_jobs")
    out = capsys.readouterr().out
    assert "Mine" in out and "Theirs" in out and "2 of 2 job(s)" in out
    call_command("list_jobs", "--owner", user.email, "--kind", "reminder", "--status", "active")
    out = capsys.readouterr().out
    assert "Mine" in out and "Theirs" not in out
    with pytest.raises(CommandError, match="No user"):
        call_command("list_jobs", "--owner", "nobody@example.com")


def test_cancel_job(user, capsys):
    job = make_job(user)
    call_command("cancel_job", str(job.pk))
    assert "cancelled" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.status == "cancelled"
    with pytest.raises(CommandError, match="already cancelled"):
        call_command("cancel_job", str(job.pk))
    with pytest.raises(CommandError, match="No job with id 999999"):
        call_command("cancel_job", "999999")


def test_run_job_queues_or_runs_inline(user, capsys, django_capture_on_commit_callbacks):
    job = make_job(user)
    call_command("run_job", str(job.pk), "--inline")
    out = capsys.readouterr().out
    assert "succeeded" in out and "notification_id" in out
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_job", str(job.pk))
    assert "queued" in capsys.readouterr().out
    assert JobRun.objects.filter(job=job, trigger="manual").count() == 2


def test_run_job_inline_failure_exits_non_zero(user, monkeypatch):
    from jobs.kinds import reminder

    monkeypatch.setattr(
        reminder, "execute", lambda job, job_run: (_ for _ in ()).throw(ValueError("boom"))
    )
    job = make_job(user, max_retries=0)
    with pytest.raises(CommandError, match="boom"):
        call_command("run_job", str(job.pk), "--inline")


def test_view_only_staff_cannot_use_the_job_actions(client, user, staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(staff_user)
    job = make_job(user)
    assert client.get(JOBS).status_code == 200
    client.post(JOBS, {"action": "pause", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "active"


def test_operators_create_jobs_in_the_admin_with_the_api_s_checks(admin_client, user):
    assert admin_client.get(f"{JOBS}add/").status_code == 200
    base = {
        "owner": user.pk,
        "name": "Ops reminder",
        "kind": "reminder",
        "params": '{"message": "Stand-up"}',
        "timezone": "Europe/Berlin",
        "notify_on": ["failed"],
        "max_retries": 2,
    }
    bad = [
        {"schedule_type": "cron", "expression": "61 * * * *"},
        {"schedule_type": "once", "run_at": "2001-01-01T09:00:00+00:00"},
        {"schedule_type": "interval", "every": 5},
        {"schedule_type": "cron", "expression": "0 9 * * *", "params": "{}"},
        {"schedule_type": "cron", "expression": "0 9 * * *", "params": "[" * 100_000},
        {"schedule_type": "cron", "expression": "0 9 * * *", "params": '{"message": "a\\u0000"}'},
    ]
    for extra in bad:
        response = admin_client.post(f"{JOBS}add/", base | extra)
        assert response.status_code == 200, extra  # the form again, with the error
        assert b"errorlist" in response.content
    assert not Job.objects.exists()
    response = admin_client.post(
        f"{JOBS}add/", base | {"schedule_type": "cron", "expression": "0 9 * * 1-5"}
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.owner, job.kind, job.timezone, job.max_retries) == (
        user,
        "reminder",
        "Europe/Berlin",
        2,
    )
    assert job.params == {"message": "Stand-up"} and job.next_run_at and job.crontab_id
    assert AuditEvent.objects.get(action="job.created").actor_email == "root@example.com"


def test_create_job_command(user, capsys):
    call_command(
        "create_job",
        "--owner",
        user.email,
        "--name",
        "CLI digest",
        "--kind",
        "task_digest",
        "--cron",
        "0 8 * * 1-5",
        "--timezone",
        "Asia/Tokyo",
    )
    assert "created; first run" in capsys.readouterr().out
    job = Job.objects.get()
    assert job.timezone == "Asia/Tokyo" and job.crontab.minute == "0"
    assert job.notify_on == ["failed"]  # the owner's preferences, as in the API
    call_command(
        "create_job",
        "--owner",
        user.email,
        "--name",
        "Every 2h",
        "--kind",
        "reminder",
        "--params",
        '{"message": "Drink water"}',
        "--every",
        "2",
        "--period",
        "hours",
        "--notify-on",
        "",
    )
    assert Job.objects.get(interval__every=2, interval__period="hours").notify_on == []
    for bad, message in [
        (["--cron", "61 * * * *"], "expression"),
        (["--at", "2001-01-01T00:00:00Z"], "future"),
        (["--every", "1", "--params", "{}"], "message"),
        (["--every", "1", "--params", "not json"], "not JSON"),
        (["--every", "1", "--timezone", "Mars/Base"], "timezone"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command(
                "create_job",
                "--owner",
                user.email,
                "--name",
                "x",
                "--kind",
                "reminder",
                "--params",
                '{"message": "x"}',
                *bad,
            )
    with pytest.raises(CommandError, match="No active user"):
        call_command(
            "create_job",
            "--owner",
            "ghost@example.com",
            "--name",
            "x",
            "--kind",
            "reminder",
            "--every",
            "1",
        )
    assert Job.objects.count() == 2


def test_list_tasks(user, other_user, capsys):
    from datetime import timedelta

    from django.utils import timezone

    from tasks.tests.factories import TaskFactory

    TaskFactory(owner=user, title="Late report", due_at=timezone.now() - timedelta(days=1))
    TaskFactory(owner=other_user, title="Someone else's", status="done")
    call_command("list_tasks")
    out = capsys.readouterr().out
    assert "Late report" in out and "Someone else's" in out and "2 of 2 task(s)" in out
    call_command("list_tasks", "--overdue", "--owner", user.email)
    out = capsys.readouterr().out
    assert "Late report" in out and "1 of 1" in out
    call_command("list_tasks", "--status", "done", "--search", "else")
    assert "1 of 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No user"):
        call_command("list_tasks", "--owner", "ghost@example.com")


def test_the_admin_form_shows_each_service_error_on_its_field(admin_client, user):
    base = {
        "owner": user.pk,
        "name": "Ops reminder",
        "kind": "reminder",
        "params": '{"message": "Stand-up"}',
        "timezone": "UTC",
        "max_retries": 2,
        "schedule_type": "cron",
        "expression": "0 9 * * *",
    }
    cases = [
        ({"expression": "61 * * * *"}, "expression", "Not a valid cron expression"),
        ({"schedule_type": "interval", "every": 5}, "period", "Required for this type."),
        ({"schedule_type": "interval", "every": 0, "period": "hours"}, "every", "equal to 1"),
        ({"schedule_type": "once", "run_at": "2001-01-01T09:00:00Z"}, "run_at", "future"),
        ({"params": "{}"}, "params", "message: This field is required."),
        ({"params": "[1]"}, "params", "Expected an object."),
        ({"max_retries": 99}, "max_retries", "less than or equal to 10"),
        ({"name": "x" * 201}, "name", "no more than 200 characters"),
    ]
    for extra, field, message in cases:
        response = admin_client.post(f"{JOBS}add/", base | extra)
        assert response.status_code == 200, extra
        errors = response.context["adminform"].form.errors
        assert list(errors) == [field], (extra, errors)
        assert message in " ".join(errors[field]), (extra, errors)
    assert not Job.objects.exists()


def test_create_job_prints_the_service_s_details(user):
    argv = ["--owner", user.email, "--name", "x", "--kind", "reminder"]

    def refused(*args: str) -> str:
        with pytest.raises(CommandError) as caught:
            call_command("create_job", *argv, *args)
        return str(caught.value)

    assert refused("--cron", "61 * * * *", "--timezone", "Mars/Base", "--max-retries", "99") == (
        "schedule.expression: Not a valid cron expression: Bad minute; "
        'timezone: "Mars/Base" is not an IANA time zone.; '
        "max_retries: Ensure this value is less than or equal to 10."
    )
    assert refused("--every", "15") == "params.message: This field is required."
    ok_params = ["--params", '{"message": "x"}']
    assert refused(*ok_params, "--at", "2030-01-01T09:00").startswith(
        "schedule.run_at: Give the time zone offset"
    )
    assert refused(*ok_params, "--at", "soon") == "--at is not an ISO 8601 time: soon"
    assert not Job.objects.exists()
    user.timezone = "Asia/Tokyo"
    user.save()
    call_command("create_job", *argv, *ok_params, "--every", "15")
    assert Job.objects.get().timezone == "Asia/Tokyo"  # the service's default: the owner's
