"""In a real browser (Debian's chromium, driven by Playwright): a user uploads a file on the
files page (streamed, with the progress bar's form), sees it listed with its SHA-256 and the
usage grow, verifies it, downloads it, and deletes it.

Screenshots go to var/screenshots/files-*.png (kept by CI).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import User
from files.models import StoredFile

from .browsing import PASSWORD, PHONE, clear_toasts, open_page, shot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_a_file_is_uploaded_verified_downloaded_and_deleted(
    browser, live_server, media, tmp_path, settings
):
    settings.FILES_USER_QUOTA_BYTES = 10 * 1024**2
    base = live_server.url
    User.objects.create_user(email="ada@example.com", password=PASSWORD, full_name="Ada")
    page, csp_errors = open_page(browser, accept_downloads=True)
    context = page.context

    page.goto(f"{base}/app/login/")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    expect(page.get_by_role("heading", name="Your files", level=1)).to_be_visible()
    expect(page.locator("#files")).to_contain_text("No files yet")
    expect(page.locator("#files")).to_contain_text("0\xa0bytes of 10.0\xa0MB used (0%)")

    # upload: listed with its SHA-256, the usage grows
    content = b"%PDF-1.4\n" + b"0123456789abcdef" * 65_536  # ~1 MB
    digest = hashlib.sha256(content).hexdigest()
    report = tmp_path / "annual-report.pdf"
    report.write_bytes(content)
    page.locator("#id_file").set_input_files(str(report))
    page.get_by_role("button", name="Upload").click()
    row = page.locator("#files tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".file-name")).to_have_text("annual-report.pdf")
    expect(row.locator("code.sha256")).to_have_attribute("data-sha256", digest)
    expect(row.locator("code.sha256")).to_have_text(digest[:12] + "…")
    expect(row).to_contain_text("application/pdf")
    expect(row).to_contain_text("Not verified")
    expect(page.locator("#toasts")).to_contain_text("Uploaded annual-report.pdf.")
    expect(page.locator("#files")).to_contain_text("1.0\xa0MB of 10.0\xa0MB used (10%)")
    stored = StoredFile.objects.get()
    assert stored.sha256 == digest and stored.size == len(content)

    # verify: a toast and the badge
    row.get_by_role("button", name="Verify annual-report.pdf").click()
    expect(page.locator("#toasts")).to_contain_text("annual-report.pdf: intact")
    expect(row.locator(".badge.ok")).to_have_text("Verified")
    stored.refresh_from_db()
    assert stored.verified_at is not None

    # download: the same bytes
    with page.expect_download() as download:
        row.get_by_role("link", name="Download annual-report.pdf").click()
    assert download.value.suggested_filename == "annual-report.pdf"
    assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == digest
    clear_toasts(page)
    shot(page, "files-list")

    phone = context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(f"{base}/app/files/")
    expect(phone.locator("#files tbody tr")).to_have_count(1)
    shot(phone, "files-list-phone")
    phone.close()

    # delete (confirmed): gone from the page and the storage
    row.get_by_role("button", name="Delete annual-report.pdf").click()
    expect(page.locator("#files")).to_contain_text("No files yet")
    expect(page.locator("#toasts")).to_contain_text("Deleted annual-report.pdf.")
    assert not StoredFile.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []

    assert csp_errors == []
    context.close()
