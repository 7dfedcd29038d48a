"""In a real browser (Debian's chromium, driven by Playwright): seed 004's smoke list — sign in
through the form, the task list (searched and sorted with htmx, the address following;
refreshed by a live:task event), create a task, its page (status changed in place, a file
attached with the upload form and downloaded), change the password, then sign in again with
the new one. No page breaks the Content-Security-Policy.

Screenshots go to var/screenshots/tasks-*.png (kept by CI).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from tasks.models import Priority, Tag, Task

from .browsing import PASSWORD, PHONE, clear_toasts, fill_sign_in, open_page, shot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
NEW_PASSWORD = "a-brand-new-passphrase"


def seed(user: User) -> None:
    """A few tasks, so the list has something to show."""
    now = timezone.now()
    other = User.objects.create_user(email="bo@example.com", password=PASSWORD, full_name="Bo")
    home = Tag.objects.create(owner=user, name="home")
    work = Tag.objects.create(owner=user, name="work")
    for title, status, priority, due, tags, assignee in [
        ("Renew passport", "todo", Priority.HIGH, now - timedelta(days=2), [home], None),
        (
            "Quarterly report",
            "in_progress",
            Priority.CRITICAL,
            now + timedelta(days=3),
            [work],
            None,
        ),
        ("Fix the bike", "blocked", Priority.LOW, None, [home], None),
        ("Review Bo's draft", "todo", Priority.MEDIUM, now + timedelta(days=1), [work], other),
        ("Book dentist", "done", Priority.MEDIUM, now - timedelta(days=5), [], None),
    ]:
        task = Task.objects.create(
            owner=user, title=title, status=status, priority=priority, due_at=due, assignee=assignee
        )
        task.tags.set(tags)
    Task.objects.create(owner=other, title="Team offsite (Bo's, public)", visibility="public")


def test_seed_004_smoke_list(browser, live_server, media, tmp_path):
    base = live_server.url
    user = User.objects.create_user(
        email="ada@example.com", password=PASSWORD, full_name="Ada", timezone="Europe/Berlin"
    )
    seed(user)
    page, csp_errors = open_page(browser, accept_downloads=True)
    context = page.context

    # log in (through the form): the task list asked for first comes after
    page.goto(f"{base}/app/tasks/")
    fill_sign_in(page, "ada@example.com", PASSWORD)
    expect(page).to_have_url(f"{base}/app/tasks/")
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()

    # the task list: everything Ada may see, newest first
    results = page.locator("#task-results")
    expect(results.locator("tbody tr")).to_have_count(6)
    expect(results).to_contain_text("Team offsite")
    passport = Task.objects.get(title="Renew passport")
    expect(results.locator(f"#task-{passport.pk}")).to_contain_text("overdue")
    shot(page, "tasks-list")

    # search as one types: the results and the address follow (htmx, no reload)
    page.get_by_label("Search").fill("report")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("Quarterly report")
    expect(page).to_have_url(re.compile(r"/app/tasks/\?search=report&"))
    page.get_by_label("Search").fill("")
    page.get_by_label("Tag").fill("home")
    page.get_by_label("Sort").select_option("title")
    expect(results.locator("tbody tr td:first-child a")).to_have_text(
        ["Fix the bike", "Renew passport"]
    )
    page.get_by_role("link", name="Clear").click()
    expect(results.locator("tbody tr")).to_have_count(6)

    # a live:task event (live.js dispatches them on <body>) refreshes the results
    Task.objects.create(owner=user, title="Arrived while looking")
    page.evaluate("document.body.dispatchEvent(new CustomEvent('live:task', {detail: {}}))")
    expect(results.locator("tbody tr")).to_have_count(7)
    expect(results.locator("tbody tr").first).to_contain_text("Arrived while looking")

    # the same list on a phone: rows as cards
    phone = context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(f"{base}/app/tasks/")
    expect(phone.locator("#task-results tbody tr")).to_have_count(7)
    shot(phone, "tasks-list-phone")
    phone.close()

    # create a task
    page.get_by_role("link", name="New task").click()
    expect(page.get_by_role("heading", name="New task", level=1)).to_be_visible()
    page.get_by_label("Title").fill("Plan the garden")
    page.get_by_label("Description").fill("Tomatoes along the south wall.\nBeans by the fence.")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Due").fill("2030-04-15T09:30")
    page.get_by_label("Tags").fill("home, spring")
    page.get_by_label("Assign to").fill("bo@example.com")
    shot(page, "tasks-create")
    page.get_by_role("button", name="Create task").click()

    # its detail page
    expect(page.get_by_role("heading", name="Plan the garden", level=1)).to_be_visible()
    task = Task.objects.get(title="Plan the garden")
    assert task.owner == user and task.priority == Priority.HIGH
    assert task.due_at.isoformat() == "2030-04-15T07:30:00+00:00"  # 09:30 in Berlin
    facts = page.locator("#task-facts")
    expect(facts).to_contain_text("Monday 15 April 2030, 09:30")
    expect(facts).to_contain_text("spring")
    expect(facts.locator("#task-assignee")).to_contain_text("Bo")

    # a quick status change, in place
    page.get_by_role("combobox", name="Status").select_option("in_progress")
    page.get_by_role("button", name="Change status").click()
    expect(facts.locator(".badge.in_progress")).to_have_text("In progress")
    expect(page.locator("#toasts")).to_contain_text("Status: In progress.")
    task.refresh_from_db()
    assert task.status == "in_progress"

    # attach a file with the upload form; it is listed with its digest, and downloads
    content = b"garden plan\n" * 50_000  # ~600 KB: the progress bar has something to show
    notes = tmp_path / "garden-plan.txt"
    notes.write_bytes(content)
    page.locator("form.upload").get_by_label("File").set_input_files(str(notes))
    page.get_by_role("button", name="Attach file").click()
    row = page.locator("#task-attachments tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("garden-plan.txt")
    digest = hashlib.sha256(content).hexdigest()
    expect(row.locator("code.sha256")).to_have_attribute("data-sha256", digest)
    expect(page.locator("#toasts")).to_contain_text("Attached garden-plan.txt.")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download garden-plan.txt").click()
    assert download.value.suggested_filename == "garden-plan.txt"
    assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == digest
    clear_toasts(page)
    shot(page, "tasks-detail")

    # change the password (the account page), sign out, sign in with the new one
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password", level=1)).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#toasts")).to_contain_text("Your password is changed.")
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.goto(f"{base}/app/tasks/")
    fill_sign_in(page, "ada@example.com", PASSWORD)  # the old one no longer works
    expect(page.locator("[role=alert]")).to_be_visible()
    fill_sign_in(page, "ada@example.com", NEW_PASSWORD)
    expect(page).to_have_url(f"{base}/app/tasks/")
    expect(page.locator("#task-results tbody tr")).to_have_count(8)

    assert csp_errors == []
    context.close()
