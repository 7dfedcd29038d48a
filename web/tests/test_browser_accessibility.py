"""Every page of the web app through axe-core (the engine behind Lighthouse's and most
accessibility audits; axe-playwright-python carries it): no violation of WCAG 2.1 A/AA
rules — labels, contrast, landmarks, names of buttons and links, ARIA — on a desktop, and
the lists on a phone viewport too. Axe runs in the page through Playwright's own channel,
not as a page script, so the pages' Content-Security-Policy stays as it is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from accounts.models import User
from jobs.tests.helpers import make_job
from meetings.services import meeting_create
from notifications.models import Notification
from tasks.models import Task

from .browsing import DESKTOP, PHONE, open_page, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
ANONYMOUS = ["/app/login/", "/app/signup/", "/app/forgot-password/", "/app/verify/resend/"]


def pages_of(user: User) -> list[str]:
    """One of each page a signed-in person sees, with something on it."""
    other = User.objects.create_user(email="grace@example.com", password="x" * 12)
    task = Task.objects.create(owner=user, title="Renew passport", due_at=timezone.now())
    job = make_job(user, name="Water the plants")
    start = timezone.now() + timedelta(days=1)
    meeting = meeting_create(
        organizer=user,
        title="Design review",
        type="hybrid",
        location="Room 4",
        url="https://meet.example.com/review",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        participant_emails=[other.email],
    )
    note = Notification.objects.create(
        user=user, to_email=user.email, kind="reminder", subject="Stand up", body_text="Hi"
    )
    return [
        "/app/",
        "/app/tasks/",
        "/app/tasks/new/",
        f"/app/tasks/{task.pk}/",
        f"/app/tasks/{task.pk}/edit/",
        "/app/files/",
        "/app/jobs/",
        "/app/jobs/new/",
        f"/app/jobs/{job.pk}/",
        "/app/meetings/",
        "/app/meetings/new/",
        f"/app/meetings/{meeting.pk}/",
        "/app/notifications/",
        f"/app/notifications/{note.pk}/",
        "/app/notifications/preferences/",
        "/app/account/password/",
    ]


def violations(page, path: str) -> list[str]:
    results = Axe().run(page, options=WCAG)
    assert results.response["passes"], f"axe checked nothing on {path}"
    return [
        f"{path} [{v['impact']}] {v['id']}: {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]


def test_the_check_finds_what_it_should(browser):
    page, _ = open_page(browser)
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    assert any("label" in v for v in violations(page, "a bare input"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe(browser, live_server, viewport):
    user = User.objects.create_user(
        email="ada@example.com", password="correct-horse-battery-staple", full_name="Ada"
    )
    base = live_server.url
    page, _ = open_page(browser, viewport=viewport)
    found = []
    for path in ANONYMOUS:
        page.goto(base + path)
        found += violations(page, path)
    sign_in(page, base, user.email)
    for path in pages_of(user):
        if viewport is PHONE and path.count("/") > 3:
            continue  # on a phone the lists (their tables become cards); the rest is one column
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        found += violations(page, path)
    assert not found, "\n".join(found)
