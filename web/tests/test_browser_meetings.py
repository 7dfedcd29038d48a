"""In a real browser (Debian's chromium, driven by Playwright): an organizer creates a hybrid
meeting inviting a second user; the participant, signed in in a second browser context,
accepts; the organizer sees the answer, reminds everyone and cancels. Then the emails page
and the email preferences, a preference changed and saved.

Screenshots go to var/screenshots/meetings-*.png and notifications-*.png (kept by CI).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from meetings.models import Meeting, Participant
from notifications.models import NotificationPreference

from .browsing import DESKTOP, PASSWORD, PHONE, open_page, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_a_meeting_is_organized_answered_and_cancelled(browser, live_server):
    base = live_server.url
    User.objects.create_user(
        email="ada@example.com", password=PASSWORD, full_name="Ada", timezone="Europe/Berlin"
    )
    User.objects.create_user(email="grace@example.com", password=PASSWORD, full_name="Grace")

    page, csp_errors = open_page(browser)
    organizer = page.context
    sign_in(page, base, "ada@example.com")

    # the nav leads to the meetings; none yet
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    expect(page.get_by_role("heading", name="Meetings", level=1)).to_be_visible()
    expect(page.locator("#meeting-results")).to_contain_text("No meetings coming up.")
    page.get_by_role("link", name="New meeting").click()

    # a hybrid meeting without a location: the service's error, on the field
    page.get_by_label("Title").fill("Design review")
    page.get_by_label("Description").fill("Bring sketches.")
    page.get_by_label("Type").select_option("hybrid")
    page.get_by_label("Link").fill("https://meet.example.com/review")
    page.get_by_label("Starts").fill("2030-03-04T10:00")
    page.get_by_label("Ends").fill("2030-03-04T11:30")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")  # the user's own
    page.get_by_label("Participants").fill("grace@example.com")
    page.get_by_label("Reminders (minutes before)").fill("30, 10")
    page.get_by_role("button", name="Create meeting").click()
    location = page.get_by_label("Location")
    expect(location).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_location_error")).to_contain_text("needs a location")
    assert not Meeting.objects.exists()
    location.fill("Room 4")
    shot(page, "meetings-new")
    page.get_by_role("button", name="Create meeting").click()

    # the meeting's page
    expect(page.get_by_role("heading", level=1)).to_have_text("Design review")
    meeting = Meeting.objects.get()
    assert meeting.type == "hybrid" and meeting.timezone == "Europe/Berlin"
    participants = page.locator("#meeting-participants")
    expect(participants.locator('li[data-email="grace@example.com"]')).to_contain_text(
        "No answer yet"
    )
    expect(page.locator("#meeting-detail")).to_contain_text("Room 4")
    expect(page.get_by_label("Feed address")).to_have_value(
        f"{base}/calendar/{ada_feed_secret()}.ics"
    )
    shot(page, "meetings-detail")

    # the list, on a desktop and on a phone
    page.get_by_role("link", name="← Meetings").click()
    row = page.locator("#meeting-results tr", has_text="Design review")
    expect(row).to_contain_text("Room 4")
    expect(row).to_contain_text("Hybrid")
    expect(row).to_contain_text("Organizer")
    expect(row.locator("time").first).to_have_attribute("datetime", "2030-03-04T10:00:00+01:00")
    shot(page, "meetings-list")
    page.set_viewport_size(PHONE)
    shot(page, "meetings-list-phone")
    page.set_viewport_size(DESKTOP)

    # the participant, in a browser of their own, accepts
    other, other_csp_errors = open_page(browser)
    participant = other.context
    sign_in(other, base, "grace@example.com")
    other.goto(f"{base}/app/meetings/")
    other.get_by_role("link", name="Design review").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Design review")
    expect(other.get_by_role("button", name="Cancel meeting")).to_have_count(0)
    other.get_by_role("button", name="Accept").click()
    expect(other.locator("#toasts")).to_contain_text("Your answer: Accepted.")
    expect(other.get_by_role("button", name="Accept")).to_have_attribute("aria-pressed", "true")
    shot(other, "meetings-rsvp")
    answer = Participant.objects.get(meeting=meeting, user__email="grace@example.com")
    assert answer.response == "accepted" and answer.reminder_minutes == [30, 10]

    # the organizer's page, reloaded, shows the answer; a reminder; then the cancellation
    page.get_by_role("link", name="Design review").click()
    grace_row = page.locator('#meeting-participants li[data-email="grace@example.com"]')
    expect(grace_row).to_contain_text("Accepted")
    page.get_by_role("button", name="Remind everyone now").click()
    expect(page.locator("#toasts")).to_contain_text("Reminder emailed to 1 participant.")
    page.get_by_role("button", name="Cancel meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelled")
    expect(page.locator("#toasts")).to_contain_text(
        "Meeting cancelled: the participants are told by email."
    )
    expect(page.get_by_role("button", name="Cancel meeting")).to_have_count(0)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    shot(page, "meetings-cancelled")

    # the participant's emails: the reminder is there; filtered by kind, then opened
    other.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    expect(other.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    results = other.locator("#notification-results")
    expect(results).to_contain_text("Meeting reminder")
    other.get_by_label("Kind").select_option("meeting_reminder")
    expect(other).to_have_url(f"{base}/app/notifications/?status=&kind=meeting_reminder")
    expect(results.locator("tbody tr")).to_have_count(1)
    shot(other, "notifications-list")
    other.set_viewport_size(PHONE)
    shot(other, "notifications-list-phone")
    other.set_viewport_size(DESKTOP)
    results.locator("tbody tr a").first.click()
    expect(other.get_by_role("heading", name="Delivery")).to_be_visible()
    expect(other.locator(".email-text")).to_contain_text("Design review")
    shot(other, "notifications-detail")

    # the email preferences, from the account menu: the daily digest at 18:00
    other.locator("details.account-menu summary").click()
    other.get_by_role("link", name="Email preferences").click()
    expect(other.get_by_role("heading", name="Email preferences")).to_be_visible()
    other.get_by_label("The daily digest", exact=True).check()
    other.get_by_label("Hour of the daily digest (0-23, my time zone)").fill("18")
    other.get_by_role("button", name="Save preferences").click()
    expect(other.locator("#toasts")).to_contain_text("Your email preferences are saved.")
    preference = NotificationPreference.objects.get(user__email="grace@example.com")
    assert preference.daily_digest and preference.digest_hour == 18
    expect(other.get_by_label("The daily digest", exact=True)).to_be_checked()
    shot(other, "notifications-preferences")

    participant.close()
    organizer.close()
    assert csp_errors == other_csp_errors == []


def ada_feed_secret() -> str:
    from meetings.models import FeedToken

    return FeedToken.objects.get(user__email="ada@example.com").secret
