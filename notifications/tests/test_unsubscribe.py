"""One-click unsubscribe (RFC 8058) and the preferences page, through the real URLs: what a
link turns off, that a GET changes nothing, and that a bad token changes nothing."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import override_settings

from audit.models import AuditEvent
from jobs.models import Job
from jobs.tests.factories import JobFactory
from notifications.kinds import Kind
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_create, preferences_get
from notifications.unsubscribe_tokens import SALT, Subscription, token_make, token_read

pytestmark = pytest.mark.django_db

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
TASK = {"id": 1, "title": "Taxes", "due_at": None, "status": "todo", "priority": "High"}


def link_in(notification: Notification, path: str = "/unsubscribe/") -> str:
    """The footer's link (path and query), as a mail client would open it."""
    found = re.findall(re.escape(path) + r"\?token=[\w\-:.]+", notification.body_text)
    assert found, notification.body_text
    return found[-1]


def mail(user, kind: Kind, **context) -> Notification:
    notification = notification_create(user=user, kind=kind, context=context)
    assert notification is not None
    return notification


def unsubscribed_events() -> int:
    return AuditEvent.objects.filter(action="notifications.unsubscribed").count()


def test_one_click_turns_the_preference_off_and_the_next_mail_of_that_kind_is_not_queued(
    client, user
):
    link = link_in(mail(user, Kind.TASK_DUE_SOON, task=TASK))
    response = client.post(link, ONE_CLICK)
    assert response.status_code == 200
    assert "Unsubscribed" in response.text and "Task due soon" in response.text
    assert preferences_get(user=user).task_due_soon is False
    assert preferences_get(user=user).task_assigned is True  # only that one
    event = AuditEvent.objects.get(action="notifications.unsubscribed")
    assert event.actor == user
    assert event.details == {
        "kind": "task_due_soon",
        "turned_off": "task_due_soon",
        "via": "email link",
    }
    assert notification_create(user=user, kind=Kind.TASK_DUE_SOON, context={"task": TASK}) is None
    assert mail(user, Kind.TASK_ASSIGNED, task=TASK, assigned_by_name="Boss")


def test_the_rfc_8058_post_has_the_token_only_in_the_url(client, user):
    """What a mail provider sends: the header's URL, a form body, no cookie, no CSRF token."""
    link = link_in(mail(user, Kind.TASK_ASSIGNED, task=TASK, assigned_by_name="Boss"))
    client.handler.enforce_csrf_checks = True
    response = client.post(
        link,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert preferences_get(user=user).task_assigned is False


def test_clicking_twice_changes_and_audits_once(client, user):
    link = link_in(mail(user, Kind.TASK_DUE_SOON, task=TASK))
    assert "Unsubscribed" in client.post(link, ONE_CLICK).text
    again = client.post(link, ONE_CLICK)
    assert again.status_code == 200 and "Nothing left to turn off" in again.text
    assert unsubscribed_events() == 1


def test_a_get_shows_a_button_and_changes_nothing(client, user):
    """Mail scanners fetch every link: only the POST changes anything."""
    link = link_in(mail(user, Kind.TASK_DUE_SOON, task=TASK))
    response = client.get(link)
    assert response.status_code == 200
    assert "Stop getting “Task due soon” emails?" in response.text
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert response["Cache-Control"].startswith("max-age=0")
    assert preferences_get(user=user).task_due_soon is True
    assert unsubscribed_events() == 0


def test_a_reminder_pauses_its_job(client, user):
    job = JobFactory(owner=user, kind="reminder")
    link = link_in(mail(user, Kind.REMINDER, message="Stand up", job=job))
    response = client.post(link, ONE_CLICK)
    assert response.status_code == 200
    assert f"from your job “{job.name}” (the job is paused)" in response.text
    job.refresh_from_db()
    assert job.status == Job.Status.PAUSED
    event = AuditEvent.objects.get(action="notifications.unsubscribed")
    assert (event.target_type, event.target_id) == ("jobs.job", str(job.pk))
    assert AuditEvent.objects.filter(action="job.paused", actor=user).exists()
    assert client.post(link, ONE_CLICK).status_code == 200  # paused already: nothing more
    assert unsubscribed_events() == 1


def test_a_mail_about_a_job_empties_its_notify_on_and_the_job_keeps_running(client, user):
    job = JobFactory(owner=user, notify_on=["succeeded", "failed"])
    link = link_in(mail(user, Kind.JOB_FAILED, job=job, error="boom", failures=1))
    assert client.post(link, ONE_CLICK).status_code == 200
    job.refresh_from_db()
    assert job.notify_on == [] and job.status == Job.Status.ACTIVE
    # the preference (the default for new jobs) is left alone
    assert preferences_get(user=user).job_failed is True


def test_a_deleted_job_s_link_still_answers(client, user):
    job = JobFactory(owner=user)
    link = link_in(mail(user, Kind.JOB_FAILED, job=job, error="boom", failures=1))
    job.delete()
    response = client.post(link, ONE_CLICK)
    assert response.status_code == 200 and "no longer exists" in response.text


def test_a_token_naming_another_user_s_job_changes_nothing(client, user, other_user):
    theirs = JobFactory(owner=other_user, notify_on=["failed"])
    token = token_make(Subscription(user_id=user.pk, kind=Kind.JOB_FAILED, job_id=theirs.pk))
    assert client.post(f"/unsubscribe/?token={token}", ONE_CLICK).status_code == 200
    theirs.refresh_from_db()
    assert theirs.notify_on == ["failed"] and unsubscribed_events() == 0


def test_a_mail_tied_to_nothing_turns_every_preference_off(client, user):
    link = link_in(mail(user, Kind.WELCOME))
    assert client.post(link, ONE_CLICK).status_code == 200
    preference = NotificationPreference.objects.get(user=user)
    assert not any(
        getattr(preference, f)
        for f in ("job_created", "job_failed", "task_due_soon", "task_assigned", "daily_digest")
    )


BAD_TOKENS = [
    "missing",
    "garbled",
    "signature changed",
    "signed for another purpose",
    "another secret key",
    "too long",
    "NUL byte",
    "non-ASCII",
    "a user id that is text",
    "a boolean user",
    "a list",
    "an unknown kind",
    "an account kind",
    "a job id that is text",
    "a user that doesn't exist",
]


def _tokens(user) -> dict[str, str]:
    good = token_make(Subscription(user_id=user.pk, kind=Kind.TASK_DUE_SOON))
    value, _, signature = good.rpartition(":")
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        other_key = token_make(Subscription(user_id=user.pk, kind=Kind.TASK_DUE_SOON))
    return {
        "missing": "",
        "garbled": "not-a-token",
        "signature changed": f"{value}:{signature[:-2]}AA",
        "signed for another purpose": signing.dumps({"u": user.pk, "k": "task_due_soon"}),
        "another secret key": other_key,
        "too long": good + "x" * 2000,
        "NUL byte": good[:10] + "\x00" + good[10:],
        "non-ASCII": good + "é",
        "a user id that is text": signing.dumps({"u": str(user.pk)}, salt=SALT),
        "a boolean user": signing.dumps({"u": True, "k": "task_due_soon"}, salt=SALT),
        "a list": signing.dumps([user.pk], salt=SALT),
        "an unknown kind": signing.dumps({"u": user.pk, "k": "spam"}, salt=SALT),
        "an account kind": signing.dumps({"u": user.pk, "k": "password_reset"}, salt=SALT),
        "a job id that is text": signing.dumps(
            {"u": user.pk, "k": "reminder", "j": "1"}, salt=SALT
        ),
        "a user that doesn't exist": token_make(Subscription(user_id=2**40, kind=Kind.WELCOME)),
    }


@pytest.mark.parametrize("case", BAD_TOKENS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_garbled_token_is_a_400_page_and_changes_nothing(client, user, case, method):
    tokens = _tokens(user)
    assert set(tokens) == set(BAD_TOKENS)
    token = tokens[case]
    before = NotificationPreference.objects.get_or_create(user=user)[0].updated_at
    response = getattr(client, method)("/unsubscribe/", {"token": token, **ONE_CLICK})
    assert response.status_code == 400
    assert "This link doesn't work" in response.text
    assert "Nothing was changed" in response.text
    assert NotificationPreference.objects.get(user=user).updated_at == before
    assert unsubscribed_events() == 0


def test_a_token_that_is_not_utf_8_in_the_url_is_a_400(client, user):
    assert client.post("/unsubscribe/?token=%FF%FE%00", ONE_CLICK).status_code == 400
    assert client.get("/unsubscribe/?token=%FF%FE%00").status_code == 400


def test_an_account_mail_kind_can_t_be_put_in_a_token():
    with pytest.raises(Exception, match="not valid"):
        token_read(token_make(Subscription(user_id=1, kind=Kind.PASSWORD_RESET)))


# --- the preferences page -------------------------------------------------------------------


def test_the_footer_s_preferences_page_shows_and_saves_the_preferences(client, user):
    link = link_in(mail(user, Kind.WELCOME), "/email-preferences/")
    page = client.get(link)
    assert page.status_code == 200
    assert 'name="task_due_soon" id="id_task_due_soon" checked' in page.text
    assert "Unsubscribe" not in page.text  # this link is only the preferences
    response = client.post(
        link,
        {"action": "save-preferences", "job_failed": "on", "daily_digest": "on", "digest_hour": 7},
    )
    assert response.status_code == 200 and "Saved." in response.text
    preference = preferences_get(user=user)
    assert (preference.job_failed, preference.daily_digest, preference.digest_hour) == (
        True,
        True,
        7,
    )
    assert (preference.task_due_soon, preference.job_created) == (False, False)
    event = AuditEvent.objects.get(action="notifications.preferences_updated")
    assert event.actor == user


@pytest.mark.parametrize(
    "posted",
    [
        {"action": "save-preferences", "digest_hour": 24},
        {"action": "save-preferences", "digest_hour": "nine"},
        {"action": "save-preferences"},
        {"task_due_soon": "on", "digest_hour": 9},  # no button: not the form
        {"List-Unsubscribe": "Two-Clicks"},
    ],
)
def test_a_bad_post_is_a_400_and_changes_nothing(client, user, posted):
    link = link_in(mail(user, Kind.TASK_DUE_SOON, task=TASK))
    before = NotificationPreference.objects.get(user=user).updated_at
    response = client.post(link, posted)
    assert response.status_code == 400
    assert NotificationPreference.objects.get(user=user).updated_at == before


def test_one_click_on_a_preferences_only_link_is_refused(client, user):
    link = link_in(mail(user, Kind.WELCOME), "/email-preferences/")
    assert client.post(link, ONE_CLICK).status_code == 400
    assert unsubscribed_events() == 0
