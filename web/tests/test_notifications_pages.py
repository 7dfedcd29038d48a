"""The web app's notifications pages: the emails sent to the signed-in user (filtered, paged,
refreshed live), one email's text and delivery, and the user's email preferences."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from notifications.services import preferences_get
from notifications.tests.factories import NotificationFactory

from .pages import HTMX, signed_in_client

pytestmark = pytest.mark.django_db


def preference_data(**overrides) -> dict:
    data = {
        "job_failed": "on",
        "task_due_soon": "on",
        "task_assigned": "on",
        "digest_hour": "9",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    "path", ["/app/notifications/", "/app/notifications/1/", "/app/notifications/preferences/"]
)
def test_an_anonymous_visitor_is_sent_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/app/login/?next=")


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_my_emails_in_my_zone_and_not_anothers():
    me = UserFactory(timezone="Asia/Tokyo")
    mine = NotificationFactory(
        user=me, subject="Your job failed", kind=Kind.JOB_FAILED, status="sent"
    )
    Notification.objects.filter(pk=mine.pk).update(
        created_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
        sent_at=datetime(2030, 1, 2, 3, 5, tzinfo=UTC),
    )
    NotificationFactory(user=me, subject="Bounced one", status="bounced")
    NotificationFactory(subject="Someone else's")
    response = signed_in_client(me).get("/app/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your job failed" in html and "Bounced one" in html and "Someone else" not in html
    assert '<span class="badge sent">Sent</span>' in html
    assert '<span class="badge bounced">Bounced</span>' in html
    assert "Job failed" in html  # the kind's label
    assert 'datetime="2030-01-02T12:04:00+09:00"' in html and "2 Jan 2030, 12:05" in html
    assert 'hx-trigger="live:notification from:body, live:resync from:body"' in html


def test_the_list_filters_by_status_and_kind():
    me = UserFactory()
    NotificationFactory(user=me, subject="Sent reminder", kind=Kind.REMINDER, status="sent")
    NotificationFactory(user=me, subject="Failed reminder", kind=Kind.REMINDER, status="failed")
    NotificationFactory(user=me, subject="Failed job", kind=Kind.JOB_FAILED, status="failed")
    client = signed_in_client(me)
    failed = client.get("/app/notifications/?status=failed").content.decode()
    assert "Failed reminder" in failed and "Failed job" in failed and "Sent reminder" not in failed
    both = client.get("/app/notifications/?status=failed&kind=reminder").content.decode()
    assert "Failed reminder" in both and "Failed job" not in both
    assert '<option value="failed" selected>' in both
    none = client.get("/app/notifications/?kind=welcome").content.decode()
    assert "No emails match these filters." in none


def test_a_bad_filter_is_a_422_with_the_error():
    me = UserFactory()
    NotificationFactory(user=me, subject="Hello")
    response = signed_in_client(me).get("/app/notifications/?status=lost")
    assert response.status_code == 422
    assert b"Select a valid choice" in response.content
    assert b"Hello" not in response.content


def test_the_list_is_paged_and_answers_htmx_with_the_results_only():
    me = UserFactory()
    for n in range(25):
        NotificationFactory(user=me, subject=f"Mail {n:02d}")
    client = signed_in_client(me)
    first = client.get("/app/notifications/").content.decode()
    assert "Mail 24" in first and "Mail 04" not in first and "Page 1 of 2" in first
    partial = client.get(
        "/app/notifications/?page=2", headers={**HTMX, "HX-Target": "notification-results"}
    )
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert 'id="notification-results"' in html and "Mail 04" in html and "Mail 24" not in html


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_takes_the_same_queries_for_few_or_many(count, django_assert_max_num_queries):
    me = UserFactory()
    NotificationFactory.create_batch(count, user=me)
    client = signed_in_client(me)
    with django_assert_max_num_queries(4):
        assert client.get("/app/notifications/").status_code == 200


# --- one email -------------------------------------------------------------------------------


def test_the_detail_shows_the_text_and_delivery():
    me = UserFactory()
    note = NotificationFactory(
        user=me,
        subject="Welcome aboard",
        body_text="Hello <Ada>,\nwelcome.",
        status="failed",
        attempts=3,
        last_error="550 mailbox unavailable",
    )
    response = signed_in_client(me).get(f"/app/notifications/{note.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Welcome aboard</h1>" in html
    assert "Hello &lt;Ada&gt;,\nwelcome." in html  # escaped, as text
    assert '<span class="badge failed">Failed</span>' in html
    assert "550 mailbox unavailable" in html and "<dd>3</dd>" in html
    partial = signed_in_client(me).get(
        f"/app/notifications/{note.pk}/", headers={**HTMX, "HX-Target": "notification-detail"}
    )
    assert b"<html" not in partial.content and b'id="notification-detail"' in partial.content


def test_an_email_rendered_at_sending_time_says_so():
    me = UserFactory()
    note = NotificationFactory(user=me, subject="", body_text="", status="queued")
    html = signed_in_client(me).get(f"/app/notifications/{note.pk}/").content.decode()
    assert "The text is written when the email is sent." in html
    assert "Next attempt" in html


def test_another_users_email_is_not_found():
    note = NotificationFactory(subject="Private")
    response = signed_in_client(UserFactory()).get(f"/app/notifications/{note.pk}/")
    assert response.status_code == 404
    assert b"Private" not in response.content


# --- preferences -----------------------------------------------------------------------------


def test_the_preferences_page_shows_mine():
    me = UserFactory()
    preference = preferences_get(user=me)
    preference.job_succeeded = True
    preference.digest_hour = 7
    preference.save()
    html = signed_in_client(me).get("/app/notifications/preferences/").content.decode()
    assert 'name="job_succeeded" id="id_job_succeeded" checked' in html
    assert 'name="job_created" id="id_job_created">' in html
    assert 'value="7"' in html
    assert "Meeting reminder" in html  # always sent
    assert 'for="id_task_assigned"' in html


def test_saving_preferences_with_htmx_answers_the_form_and_a_toast():
    me = UserFactory()
    client = signed_in_client(me)
    response = client.post(
        "/app/notifications/preferences/",
        preference_data(job_succeeded="on", daily_digest="on", digest_hour="18", job_failed=None),
        headers={**HTMX, "HX-Target": "preferences-form"},
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == (
        "Your email preferences are saved."
    )
    assert b"<html" not in response.content and b'id="preferences-form"' in response.content
    preference = NotificationPreference.objects.get(user=me)
    assert preference.job_succeeded and preference.daily_digest and not preference.job_failed
    assert preference.digest_hour == 18
    event = AuditEvent.objects.get(action="notifications.preferences_updated", actor=me)
    assert event.details["changed"]["digest_hour"] == 18


def test_saving_preferences_without_htmx_goes_back_to_the_page():
    me = UserFactory()
    client = signed_in_client(me)
    response = client.post("/app/notifications/preferences/", preference_data(task_due_soon=None))
    assert response.status_code == 302
    assert response["Location"] == "/app/notifications/preferences/"
    assert not NotificationPreference.objects.get(user=me).task_due_soon
    assert b"Your email preferences are saved." in client.get(response["Location"]).content


@pytest.mark.parametrize("hour", ["24", "-1", "nine", ""])
def test_a_bad_hour_is_refused_and_nothing_changes(hour):
    me = UserFactory()
    preferences_get(user=me)
    response = signed_in_client(me).post(
        "/app/notifications/preferences/", preference_data(digest_hour=hour, job_succeeded="on")
    )
    assert response.status_code == 422
    assert b'id="id_digest_hour_error"' in response.content
    preference = NotificationPreference.objects.get(user=me)
    assert not preference.job_succeeded and preference.digest_hour == 9
    assert not AuditEvent.objects.filter(action="notifications.preferences_updated").exists()


def test_preferences_need_the_csrf_token():
    me = UserFactory()
    client = signed_in_client(me, enforce_csrf_checks=True)
    response = client.post("/app/notifications/preferences/", preference_data(job_succeeded="on"))
    assert response.status_code == 403
