"""A live update arriving in a second browser: Ada watches her task list while Bo, in
another browser, creates a task assigned to her; it appears on Ada's page without a reload,
through the real live process (`python -m live`) and the page's live.js, with a toast
saying it was assigned to her."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User

from .browsing import PASSWORD, clear_toasts, open_page, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_a_task_assigned_in_one_browser_appears_in_another(
    browser,
    live_server,
    live_process,
    settings,
):
    # the pages point live.js at the test's live process (same host name as the pages, so
    # the session cookie goes along)
    settings.LIVE_PORT = live_process.port
    User.objects.create_user(email="ada@example.com", password=PASSWORD, full_name="Ada")
    User.objects.create_user(email="bo@example.com", password=PASSWORD, full_name="Bo")
    base = live_server.url

    watching, csp_errors = open_page(browser)
    sign_in(watching, base, "ada@example.com")
    frames: list[str] = []
    watching.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    with watching.expect_websocket() as opened:
        watching.goto(f"{base}/app/tasks/")
    assert f":{live_process.port}/ws/" in opened.value.url
    for _ in range(100):  # signed in to the live process: its hello arrived
        if any("live.hello" in frame for frame in frames):
            break
        watching.wait_for_timeout(100)
    else:
        pytest.fail(f"no live.hello: {frames}\n{live_process.log.read_text()}")
    expect(watching.get_by_text("No tasks match")).to_be_visible()

    acting, acting_csp_errors = open_page(browser)
    sign_in(acting, base, "bo@example.com")
    acting.goto(f"{base}/app/tasks/new/")
    acting.get_by_label("Title").fill("Ship the release")
    acting.get_by_label("Assign to").fill("ada@example.com")
    acting.get_by_role("button", name="Create task").click()
    expect(acting.get_by_role("heading", name="Ship the release")).to_be_visible()

    # no reload on Ada's side: the event reached her page, which fetched its list again
    arrived = watching.get_by_role("link", name="Ship the release")
    expect(arrived).to_be_visible(timeout=10_000)
    expect(watching.locator("#toasts")).to_contain_text("“Ship the release” was assigned to you.")
    shot(watching, "live-second-browser-toast")
    clear_toasts(watching)
    shot(watching, "live-second-browser")
    assert csp_errors == acting_csp_errors == []


def test_signing_out_in_one_tab_signs_out_the_others(browser, live_server, live_process, settings):
    settings.LIVE_PORT = live_process.port
    User.objects.create_user(email="ada@example.com", password=PASSWORD, full_name="Ada")
    base = live_server.url
    left_open, csp_errors = open_page(browser)
    sign_in(left_open, base, "ada@example.com")
    with left_open.expect_websocket():
        left_open.goto(f"{base}/app/tasks/")
    other_tab = left_open.context.new_page()  # same browser, same session
    other_tab.goto(f"{base}/app/")
    other_tab.locator("summary", has_text="Ada").click()  # the account menu
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()
    # the tab left open heard its session end, and went to the sign-in page by itself
    expect(left_open.get_by_role("heading", name="Sign in")).to_be_visible(timeout=10_000)
    assert csp_errors == []
