"""In a real browser (Debian's chromium, driven by Playwright): a user builds an interval job,
watching the next-5-runs preview follow the interval; builds a cron job in another time
zone; opens it, pauses, resumes, runs it now (the run appears in the history: test settings
run Celery tasks eagerly, inside the request) and deletes it.

Screenshots go to var/screenshots/jobs-*.png (kept by CI).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from jobs.models import Job, JobRun

from .browsing import PASSWORD, PHONE, clear_toasts, open_page, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def preview_gaps(page: Page) -> set[timedelta]:
    stamps = page.locator("#preview time").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('datetime'))"
    )
    times = [datetime.fromisoformat(stamp) for stamp in stamps]
    assert len(times) == 5
    return {b - a for a, b in pairwise(times)}


def test_jobs_are_built_run_and_deleted(browser, live_server):
    base = live_server.url
    user = User.objects.create_user(
        email="ada@example.com", password=PASSWORD, full_name="Ada", timezone="Europe/Berlin"
    )
    page, csp_errors = open_page(browser)
    context = page.context
    sign_in(page, base, "ada@example.com")

    # the nav leads to the jobs; none yet
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    expect(page.locator("#job-results")).to_contain_text("No jobs yet")
    page.get_by_role("link", name="New job").click()

    # an interval reminder: the preview follows the interval as it is typed
    expect(page.get_by_role("heading", name="New job", level=1)).to_be_visible()
    page.get_by_label("Name").fill("Water the plants")
    expect(page.get_by_label("Kind")).to_have_value("reminder")
    page.get_by_label("Message").fill("The ficus is thirsty.")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")  # the user's own
    expect(page.get_by_label("Schedule type")).to_have_value("interval")
    assert preview_gaps(page) == {timedelta(hours=1)}
    every = page.get_by_label("Every")
    every.fill("3")
    expect(page.locator("#preview")).to_contain_text("Every 3 hours")
    assert preview_gaps(page) == {timedelta(hours=3)}
    # too often for a job that sends email: the preview says so before anything is sent
    page.get_by_label("Unit").select_option("minutes")
    every.fill("5")
    expect(page.locator("#preview")).to_contain_text("at least 10 minutes apart")
    every.fill("45")
    expect(page.locator("#preview")).to_contain_text("Every 45 minutes")
    assert preview_gaps(page) == {timedelta(minutes=45)}
    shot(page, "jobs-builder")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", name="Water the plants", level=1)).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("is created")
    interval_job = Job.objects.get(name="Water the plants")
    assert (interval_job.interval.every, interval_job.interval.period) == (45, "minutes")

    # a cron digest in New York time: the kind's and the type's fields are swapped in
    page.goto(f"{base}/app/jobs/new/")
    page.get_by_label("Name").fill("Morning digest")
    page.get_by_label("Kind").select_option("task_digest")
    expect(page.locator("#params-fields")).to_contain_text("This kind has no settings.")
    page.get_by_label("Schedule type").select_option("cron")
    expression = page.get_by_label("Cron expression")
    expect(expression).to_have_value("0 9 * * 1-5")
    expect(page.locator("#preview")).to_contain_text("Weekdays at 09:00 (Europe/Berlin)")
    expression.fill("30 8 * * 1-5")
    page.get_by_label("Time zone").select_option("America/New_York")
    expect(page.locator("#preview")).to_contain_text("Weekdays at 08:30 (America/New_York)")
    expect(page.locator("#preview")).to_contain_text("your time")
    first = page.locator("#preview time").first.get_attribute("datetime") or ""
    assert first.endswith(("-05:00", "-04:00")) and "T08:30:00" in first
    # a broken expression is shown, then fixed
    expression.fill("30 8 * * 1-9")
    expect(page.locator("#preview")).to_contain_text("Not a valid cron expression")
    expression.fill("30 8 * * 1-5")
    expect(page.locator("#preview time")).to_have_count(5)
    shot(page, "jobs-builder-cron")
    page.get_by_role("button", name="Create job").click()

    # its page: settings, the next 5 runs in its zone, no runs yet
    expect(page.get_by_role("heading", name="Morning digest", level=1)).to_be_visible()
    expect(page.locator("#job-summary")).to_contain_text("Weekdays at 08:30 (America/New_York)")
    expect(page.locator("#job-summary ol time")).to_have_count(5)
    expect(page.locator("#run-history")).to_contain_text("No runs yet.")
    cron_job = Job.objects.get(name="Morning digest")
    assert cron_job.timezone == "America/New_York" and cron_job.kind == "task_digest"

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#toasts")).to_contain_text("Paused")
    expect(page.locator("#job-summary .badge.paused")).to_have_text("Paused")
    expect(page.locator("#job-summary")).to_contain_text("nothing runs on schedule")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#toasts")).to_contain_text("Resumed")
    expect(page.locator("#job-summary .badge.active")).to_have_text("Active")

    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#toasts")).to_contain_text("A run is started.")
    history = page.locator("#run-history")
    expect(history).to_contain_text("Manual")
    expect(history).to_contain_text("1 run")
    run = JobRun.objects.get(job=cron_job)
    assert run.trigger == "manual" and run.status == "succeeded"
    expect(history.locator(".badge.succeeded")).to_have_count(1)
    clear_toasts(page)
    shot(page, "jobs-detail")

    # the list, on a desktop and on a phone
    page.get_by_role("link", name="Jobs").first.click()
    expect(page.locator("#job-results")).to_contain_text("2 jobs")
    expect(page.locator("#job-results")).to_contain_text("Every 45 minutes")
    page.get_by_label("Kind").select_option("task_digest")  # the filter, by htmx
    expect(page.locator("#job-results")).to_contain_text("1 job")
    expect(page).to_have_url(f"{base}/app/jobs/?status=&kind=task_digest")
    page.get_by_label("Kind").select_option("")
    expect(page.locator("#job-results")).to_contain_text("2 jobs")
    shot(page, "jobs-list")
    phone = browser.new_context(viewport=PHONE, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(f"{base}/app/jobs/")
    expect(small.locator("#job-results")).to_contain_text("Morning digest")
    shot(small, "jobs-list-phone")
    phone.close()

    # delete (confirmed in the dialog): back to the list, the job gone
    page.get_by_role("link", name="Morning digest").click()
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{base}/app/jobs/")
    expect(page.locator("#toasts")).to_contain_text("is deleted")
    expect(page.locator("#job-results")).not_to_contain_text("Morning digest")
    assert not Job.objects.filter(name="Morning digest").exists()
    assert Job.objects.filter(owner=user).count() == 1
    context.close()
    assert csp_errors == []
