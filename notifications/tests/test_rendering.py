from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.kinds import Kind
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
    Kind.TASK_DUE_SOON: {"task": TASK},
    Kind.TASK_ASSIGNED: {"task": TASK, "assigned_by_name": "Boss"},
    Kind.DAILY_DIGEST: {"overdue": [TASK], "due_soon": [], "open_tasks": [TASK, TASK]},
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


@pytest.mark.django_db
def test_digest_counts_in_the_subject(user):
    rendered = render(Kind.DAILY_DIGEST, CONTEXTS[Kind.DAILY_DIGEST], user=user)
    assert rendered.subject == "Your tasks today: 1 overdue, 0 due soon"


def test_without_a_user_the_greeting_is_generic():
    assert render(Kind.TEST_EMAIL, {}).text.startswith("Hello there,")
