"""The users / stats commands, the admin dashboard and the user admin actions."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from files.tests.factories import StoredFileFactory
from jobs.models import Job, JobRun
from jobs.tests.helpers import make_job
from notifications.models import Notification
from taskplatform.testing import stored_blobs

pytestmark = pytest.mark.django_db


def test_users_list_deactivate_activate_delete(user, other_user, capsys, media):
    make_job(user, schedule="interval")
    StoredFileFactory(owner=user)
    call_command("users", "list")
    out = capsys.readouterr().out
    assert user.email in out and other_user.email in out and "2 user(s)" in out
    call_command("users", "deactivate", user.email)
    assert "deactivated" in capsys.readouterr().out
    user.refresh_from_db()
    assert not user.is_active and Job.objects.get().status == "paused"
    call_command("users", "list", "--inactive")
    assert "1 user(s)" in capsys.readouterr().out
    call_command("users", "activate", str(user.pk))
    user.refresh_from_db()
    assert user.is_active and Job.objects.get().status == "paused"
    with pytest.raises(CommandError, match="--yes"):
        call_command("users", "delete", user.email)
    call_command("users", "delete", user.email, "--yes")
    assert not User.objects.filter(pk=user.pk).exists() and stored_blobs(media) == []
    with pytest.raises(CommandError, match="No user"):
        call_command("users", "deactivate", "ghost@example.com")


def test_stats_command(user, capsys):
    make_job(user)
    call_command("stats")
    out = capsys.readouterr().out
    assert "users" in out and "active 1" in out and "storage" in out
    call_command("stats", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["jobs_by_status"]["active"] == 1


def test_dashboard_shows_stats_and_charts(admin_client, user):
    job = make_job(user)
    for status in ["succeeded", "failed", "succeeded"]:
        JobRun.objects.create(
            job=job, trigger="manual", scheduled_for=timezone.now(), status=status
        )
    Notification.objects.create(
        user=user, to_email=user.email, kind="welcome", subject="x", status="sent"
    )
    page = admin_client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dashboard"' in html and 'id="card-jobs"' in html
    assert html.count('class="tp-chart"') == 2
    assert ": 2 succeeded</title>" in html and ": 1 failed</title>" in html
    assert ": 1 sent</title>" in html
    assert "Job runs per day" in html and "Notifications per day" in html


def test_user_admin_actions_and_delete_go_through_the_services(
    admin_client, user, other_user, media
):
    make_job(user, schedule="interval")
    StoredFileFactory(owner=other_user)
    admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [user.pk]}
    )
    user.refresh_from_db()
    assert not user.is_active and Job.objects.get().status == "paused"
    admin_client.post(
        "/admin/accounts/user/", {"action": "activate", "_selected_action": [user.pk]}
    )
    user.refresh_from_db()
    assert user.is_active
    response = admin_client.post(f"/admin/accounts/user/{other_user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=other_user.pk).exists() and stored_blobs(media) == []
