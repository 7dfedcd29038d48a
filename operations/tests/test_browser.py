"""In a real browser (Debian's chromium, driven by Playwright): an operator logs in to the
admin, sees the dashboard, pauses a job with the admin action, and the API shows it paused.

A screenshot of the dashboard is saved to var/dashboard.png (kept by CI as an artifact).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from jobs.models import JobRun
from jobs.tests.helpers import make_job
from notifications.models import Notification

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
PASSWORD = "correct-horse-battery-staple"


def api(base: str, path: str, *, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the live_server's http URL
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - live_server
        return json.loads(response.read())


def seed_history(job) -> None:
    """Two weeks of runs and emails, so the dashboard's charts have something to show."""
    now = timezone.now()
    for day in range(14):
        when = now - timedelta(days=day)
        for n in range(3 + day % 4):
            status = "failed" if (day + n) % 5 == 0 else "succeeded"
            run = JobRun.objects.create(
                job=job, trigger="manual", scheduled_for=when, status=status
            )
            JobRun.objects.filter(pk=run.pk).update(created_at=when)
            note = Notification.objects.create(
                user=job.owner,
                to_email=job.owner.email,
                kind="job_succeeded",
                subject="ok",
                status="sent",
            )
            Notification.objects.filter(pk=note.pk).update(created_at=when)


def test_an_operator_pauses_a_job_from_the_admin(browser, live_server):
    User.objects.create_superuser(email="ops@example.com", password=PASSWORD)
    owner = User.objects.create_user(email="owner@example.com", password=PASSWORD)
    job = make_job(owner, name="Nightly digest", kind="task_digest", schedule="0 2 * * *")
    seed_history(job)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ops@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")
    assert page.locator("#card-jobs").inner_text().count("active") == 1
    assert page.locator("svg.tp-chart").count() == 2
    shot = Path(settings.VAR_DIR) / "dashboard.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    page.goto(f"{live_server.url}/admin/jobs/job/")
    page.check(f"input[name=_selected_action][value='{job.pk}']")
    page.select_option("select[name=action]", "pause")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    assert "1 job(s) paused" in page.locator("ul.messagelist").inner_text()

    tokens = api(
        live_server.url, "/api/v1/auth/login/", body={"email": owner.email, "password": PASSWORD}
    )
    seen = api(live_server.url, f"/api/v1/jobs/{job.pk}/", token=tokens["access"])
    assert seen["status"] == "paused"
