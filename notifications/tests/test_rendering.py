from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from notifications.kinds import ACCOUNT_KINDS, Kind
from notifications.rendering import render

TASK = {
    "title": "File taxes & receipts",
    "due_at": "2026-12-01 09:00",
    "status": "todo",
    "priority": "high",
}
CONTEXTS = {
    Kind.WELCOME: {},
    Kind.VERIFY_EMAIL: {
        "verify_url": "https://tasks.example.com/verify-email/?token=abc",
        "for_password_reset": False,
        "valid_hours": 72,
    },
    Kind.PASSWORD_RESET: {
        "reset_url": "https://tasks.example.com/reset-password/?token=a.b",
        "valid_minutes": 60,
    },
    Kind.REGISTER_ATTEMPT: {},
    Kind.EMAILS_HELD_BACK: {
        "count": 12,
        "limit": 30,
        "subjects": ["Reminder: water the plants"] * 10,
        "since": datetime(2026, 11, 28, 9, tzinfo=UTC),
        "until": datetime(2026, 11, 28, 10, tzinfo=UTC),
    },
    Kind.JOB_CREATED: {
        "job": {"name": "Weekly cleanup", "kind": "file_cleanup", "next_run_at": "2026-12-01 09:00"}
    },
    Kind.JOB_SUCCEEDED: {
        "job": {"name": "Weekly cleanup"},
        "run": {"finished_at": "today"},
        "summary": "3 files deleted, 12 MB freed",
    },
    Kind.JOB_FAILED: {
        "job": {"name": "Weekly cleanup"},
        "run": {"attempt": 3},
        "error": "disk <full>",
        "paused": True,
        "failures": 10,
    },
    Kind.JOB_PAUSED: {"job": {"name": "Weekly cleanup"}, "error": "disk <full>", "failures": 10},
    Kind.REMINDER: {"message": "Call the bank <today>", "task": TASK},
    Kind.MEETING_REMINDER: {
        "meeting": {
            "title": "Planning <Q1>",
            "starts_at": datetime(2026, 12, 1, 9, tzinfo=UTC),
            "ends_at": datetime(2026, 12, 1, 10, tzinfo=UTC),
            "location": "Room 4",
            "url": "https://meet.example.com/q1",
        },
        "organizer_email": "ada@example.com",
    },
    Kind.MEETING_INVITATION: {
        "meeting": {
            "title": "Planning <Q1>",
            "description": "Bring the numbers & the plan",
            "starts_at": datetime(2026, 12, 1, 9, tzinfo=UTC),
            "ends_at": datetime(2026, 12, 1, 10, tzinfo=UTC),
            "location": "Room 4",
            "url": "https://meet.example.com/q1",
        },
        "organizer_email": "ada@example.com",
        "organizer_name": "Ada",
        "update": True,
    },
    Kind.MEETING_CANCELLED: {
        "meeting": {"title": "Planning <Q1>", "starts_at": datetime(2026, 12, 1, 9, tzinfo=UTC)},
        "organizer_email": "ada@example.com",
        "organizer_name": "Ada",
        "removed": False,
    },
    Kind.TASK_DUE_SOON: {"task": TASK},
    Kind.TASK_ASSIGNED: {"task": TASK, "assigned_by_name": "Boss"},
    Kind.DAILY_DIGEST: {  # its content: digests/tests
        "date": "Mon 1 Dec",
        "timezone": "UTC",
        "overdue": [{"title": "File taxes & receipts", "at": "Sun 30 Nov 09:00"}],
        "overdue_count": 1,
    },
    Kind.TASK_DIGEST: {
        "overdue": [TASK],
        "overdue_count": 1,
        "due_soon": [],
        "due_soon_count": 0,
        "open_tasks": [TASK],
        "open_tasks_count": 25,
    },
    Kind.TEST_EMAIL: {},
}


def test_every_kind_has_a_context_here():
    assert set(CONTEXTS) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.django_db
def test_every_kind_renders_subject_text_and_html(kind, user):
    rendered = render(kind, CONTEXTS[kind], user=user)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.startswith(f"Hello {user.full_name},")
    assert "notification preferences" in rendered.html  # the shared base layout
    assert "<html" in rendered.html and "<html" not in rendered.text
    assert "{{" not in rendered.text + rendered.html + rendered.subject


@pytest.mark.django_db
def test_text_is_not_html_escaped_but_html_is(user):
    rendered = render(Kind.REMINDER, CONTEXTS[Kind.REMINDER], user=user)
    assert "Call the bank <today>" in rendered.text
    assert "File taxes & receipts" in rendered.text
    assert "Call the bank &lt;today&gt;" in rendered.html
    assert "<today>" not in rendered.html


@pytest.mark.django_db
def test_job_failed_mentions_the_pause(user):
    rendered = render(Kind.JOB_FAILED, CONTEXTS[Kind.JOB_FAILED], user=user)
    assert "paused" in rendered.text and "attempt 3" in rendered.text
    assert rendered.subject == "Job failed: Weekly cleanup"


def test_without_a_user_the_greeting_is_generic():
    assert render(Kind.TEST_EMAIL, {}).text.startswith("Hello there,")


# --- subjects are plain text; times in the recipient's zone; links for the browser ----------

AWKWARD = """Tom & Jerry <3 "quoted" 'single'"""


@pytest.mark.parametrize(
    ("kind", "context", "subject"),
    [
        (Kind.TASK_ASSIGNED, {"task": {"title": AWKWARD}}, f"Assigned to you: {AWKWARD}"),
        (Kind.TASK_DUE_SOON, {"task": {"title": AWKWARD}}, f"Due soon: {AWKWARD}"),
        (Kind.REMINDER, {"message": AWKWARD}, f"Reminder: {AWKWARD}"),
        (Kind.JOB_CREATED, {"job": {"name": AWKWARD}}, f"Job created: {AWKWARD}"),
        (Kind.JOB_SUCCEEDED, {"job": {"name": AWKWARD}}, f"Job succeeded: {AWKWARD}"),
        (Kind.JOB_FAILED, {"job": {"name": AWKWARD}}, f"Job failed: {AWKWARD}"),
        (Kind.JOB_PAUSED, {"job": {"name": AWKWARD}}, f"Job paused: {AWKWARD}"),
    ],
)
@pytest.mark.django_db
def test_subjects_and_text_are_never_html_escaped(kind, context, subject, user):
    rendered = render(kind, context, user=user)
    assert rendered.subject == subject
    assert AWKWARD in rendered.text and "&amp;" not in rendered.text
    assert "Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#x27;single&#x27;" in rendered.html


@pytest.mark.django_db
def test_a_title_already_holding_an_entity_stays_as_written(user):
    rendered = render(Kind.TASK_DUE_SOON, {"task": {"title": "R&amp;D review"}}, user=user)
    assert rendered.subject == "Due soon: R&amp;D review"


@pytest.mark.parametrize(
    ("zone", "due_at", "shown"),
    [
        ("UTC", datetime(2025, 12, 1, 8, 0, tzinfo=UTC), "Mon 1 Dec 08:00 UTC"),
        ("Europe/Berlin", datetime(2025, 12, 1, 8, 0, tzinfo=UTC), "Mon 1 Dec 09:00 CET"),
        ("Europe/Berlin", datetime(2026, 7, 1, 7, 0, tzinfo=UTC), "Wed 1 Jul 09:00 CEST"),
        ("Asia/Kolkata", datetime(2025, 12, 1, 8, 0, tzinfo=UTC), "Mon 1 Dec 13:30 IST"),
    ],
)
@pytest.mark.django_db
def test_due_times_show_in_the_recipient_s_time_zone(zone, due_at, shown, user):
    user.timezone = zone
    task = {"id": 7, "title": "Taxes", "due_at": due_at, "status": "todo", "priority": "High"}
    for kind, context in [
        (Kind.TASK_DUE_SOON, {"task": task}),
        (Kind.TASK_ASSIGNED, {"task": task, "assigned_by_name": "Boss"}),
        (Kind.REMINDER, {"message": "Hi", "task": task}),
        (Kind.TASK_DIGEST, {"overdue": [task], "due_soon": [task], "open_tasks": []}),
        (Kind.JOB_CREATED, {"job": {"name": "J", "next_run_at": due_at}}),
        (Kind.JOB_SUCCEEDED, {"job": {"name": "J"}, "run": {"finished_at": due_at}}),
    ]:
        rendered = render(kind, context, user=user)
        assert shown in rendered.text, kind
        assert shown in rendered.html, kind


@pytest.mark.django_db
def test_the_held_back_summary_names_the_recipient_s_zone(user):
    user.timezone = "Europe/Berlin"
    rendered = render(Kind.EMAILS_HELD_BACK, CONTEXTS[Kind.EMAILS_HELD_BACK], user=user)
    assert "between 10:00 and 11:00 CET" in rendered.text


@pytest.mark.parametrize("kind", [k for k in Kind if k != Kind.DAILY_DIGEST])
@pytest.mark.django_db
def test_every_link_opens_in_a_browser(kind, user):
    """No link to a token-only API URL: the footer's preferences link is a signed page."""
    rendered = render(kind, CONTEXTS[kind], user=user)
    for text in (rendered.text, rendered.html):
        assert "/api/v1/notifications/preferences/" not in text
        for url in re.findall(r"https?://[^\s\"<>]+", text):
            assert "/api/v1/" not in url, (kind, url)
    assert re.search(r'href="http://[^"]+/email-preferences/\?token=[^"]+"', rendered.html)


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.django_db
def test_the_footer_offers_unsubscribe_except_on_account_mail(kind, user):
    rendered = render(kind, CONTEXTS[kind], user=user)
    offered = "/unsubscribe/?token=" in rendered.text
    assert offered is (kind not in ACCOUNT_KINDS)
    assert ("/unsubscribe/?token=" in rendered.html) is offered
