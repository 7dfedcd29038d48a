"""RFC 8058 headers on the wire: sent through a real SMTP server (aiosmtpd), parsed as a mail
client would, and the header's URL used as a mail provider does."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jobs.models import Job
from jobs.tests.factories import JobFactory
from notifications.delivery import build_message
from notifications.kinds import ACCOUNT_KINDS, Kind
from notifications.services import notification_create, preferences_get
from notifications.unsubscribe_tokens import Subscription, token_make, token_read
from tasks.due_soon import due_soon_reminders_queue
from tasks.tests.factories import TaskFactory

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

TASK = {"id": 1, "title": "Taxes", "due_at": None, "status": "todo", "priority": "High"}


def header(message: EmailMessage, name: str) -> str | None:
    """A header's value, unfolded (Django folds a long value onto the next line, which RFC 5322
    allows; the parser keeps that line's leading space)."""
    value = message[name]
    return None if value is None else str(value).strip()


def sent(smtp_server, django_capture_on_commit_callbacks, **kwargs) -> EmailMessage:
    """notification_create → sender → SMTP; the message as the server received it."""
    before = len(smtp_server.messages)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_create(**kwargs) is not None
    assert len(smtp_server.messages) == before + 1
    raw = smtp_server.messages[-1].content
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def one_click(client, message: EmailMessage) -> int:
    """POST to the <URL> in List-Unsubscribe, with RFC 8058's body and nothing else."""
    url = urlsplit(str(header(message, "List-Unsubscribe")).strip("<>"))
    return client.post(
        f"{url.path}?{url.query}",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    ).status_code


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        (Kind.TASK_DUE_SOON, {"task": TASK}),
        (Kind.TASK_ASSIGNED, {"task": TASK, "assigned_by_name": "Boss"}),
        (Kind.WELCOME, {}),
    ],
)
def test_non_transactional_mail_carries_one_click_unsubscribe(
    smtp_server, django_capture_on_commit_callbacks, settings, user, kind, context
):
    message = sent(smtp_server, django_capture_on_commit_callbacks, user=user, kind=kind,
                   context=context)  # fmt: skip
    link = header(message, "List-Unsubscribe")
    assert link is not None
    assert link.startswith(f"<{settings.SITE_URL}/unsubscribe/?token=") and link.endswith(">")
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    token = urlsplit(link.strip("<>")).query.removeprefix("token=")
    assert token_read(token) == Subscription(user_id=user.pk, kind=kind)
    # the footer's link is the same one
    assert link.strip("<>") in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        (Kind.VERIFY_EMAIL, {"verify_url": "https://x/v", "valid_hours": 72}),
        (Kind.PASSWORD_RESET, {"reset_url": "https://x/r", "valid_minutes": 60}),
        (Kind.REGISTER_ATTEMPT, {}),
        (Kind.TEST_EMAIL, {}),
    ],
)
def test_account_mail_has_no_unsubscribe(
    smtp_server, django_capture_on_commit_callbacks, user, kind, context
):
    assert kind in ACCOUNT_KINDS
    message = sent(smtp_server, django_capture_on_commit_callbacks, user=user, kind=kind,
                   context=context)  # fmt: skip
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert "/unsubscribe/" not in message.get_body(("plain",)).get_content()


def test_the_header_s_one_click_turns_it_off_and_the_next_one_is_not_queued(
    smtp_server, django_capture_on_commit_callbacks, client, user
):
    message = sent(smtp_server, django_capture_on_commit_callbacks, user=user,
                   kind=Kind.TASK_DUE_SOON, context={"task": TASK})  # fmt: skip
    assert one_click(client, message) == 200
    assert preferences_get(user=user).task_due_soon is False
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            notification_create(user=user, kind=Kind.TASK_DUE_SOON, context={"task": TASK}) is None
        )
    assert len(smtp_server.messages) == 1


def test_a_reminder_s_header_pauses_its_job(
    smtp_server, django_capture_on_commit_callbacks, client, user
):
    job = JobFactory(owner=user, kind="reminder")
    message = sent(smtp_server, django_capture_on_commit_callbacks, user=user,
                   kind=Kind.REMINDER, context={"message": "Stand up", "job": job})  # fmt: skip
    assert one_click(client, message) == 200
    job.refresh_from_db()
    assert job.status == Job.Status.PAUSED


def test_a_subject_arrives_exactly_as_written(
    smtp_server, django_capture_on_commit_callbacks, user
):
    title = """Tom & Jerry <3 "quoted" 'single' — naïve"""
    message = sent(smtp_server, django_capture_on_commit_callbacks, user=user,
                   kind=Kind.TASK_DUE_SOON, context={"task": {**TASK, "title": title}})  # fmt: skip
    assert header(message, "Subject") == f"Due soon: {title}"


def test_a_link_written_into_the_mail_can_t_replace_the_recipient_s(user, other_user):
    """A task title can hold anything, even someone else's unsubscribe link: the header is the
    footer's (the last link), and only a token signed for this recipient counts."""
    theirs = token_make(Subscription(user_id=other_user.pk, kind=Kind.TASK_ASSIGNED))
    body = f"Task: /unsubscribe/?token={theirs}\n-- \nfooter"
    foreign = NotificationFactory(user=user, kind=Kind.TASK_ASSIGNED, body_text=body)
    assert "List-Unsubscribe" not in build_message(foreign).extra_headers
    mine = token_make(Subscription(user_id=user.pk, kind=Kind.TASK_ASSIGNED))
    foreign.body_text = (
        f"{body}\nUnsubscribe from these emails: http://x/unsubscribe/?token={mine}\n"
    )
    assert build_message(foreign).extra_headers["List-Unsubscribe"].endswith(f"={mine}>")


def test_a_row_rendered_before_unsubscribe_links_existed_goes_out_without(user):
    old = NotificationFactory(user=user, kind=Kind.TASK_DUE_SOON, body_text="Due soon\n")
    assert "List-Unsubscribe" not in build_message(old).extra_headers


def test_a_row_queued_in_bulk_gets_its_link_when_the_sender_renders_it(
    smtp_server, django_capture_on_commit_callbacks, client, user
):
    """The due-soon sweep's rows carry only the task id and are rendered by the sender (in the
    recipient's zone): the header and the footer come from that rendering."""
    user.timezone = "Europe/Berlin"
    user.save(update_fields=["timezone"])
    due = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    TaskFactory(owner=user, title="Pay rent & tax", due_at=due)
    with django_capture_on_commit_callbacks(execute=True):
        assert due_soon_reminders_queue() == 1
    (received,) = smtp_server.messages
    message = email.message_from_bytes(received.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert header(message, "Subject") == "Due soon: Pay rent & tax"
    text = message.get_body(("plain",)).get_content()
    assert due.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M CE") in text
    assert one_click(client, message) == 200
    assert preferences_get(user=user).task_due_soon is False
