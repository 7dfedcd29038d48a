"""One rule for job mail (issue 14): a job's notify_on decides for that job; the owner's
preferences (job_created, job_succeeded, job_failed) are the defaults of new jobs' notify_on
and govern the mail not tied to a job."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs import kinds, runner
from jobs.kinds import reminder
from jobs.models import Job, JobRun
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create, preferences_update

pytestmark = pytest.mark.django_db
URL = "/api/v1/jobs/"


def create(client, **body):
    payload = {
        "name": "Water",
        "kind": "reminder",
        "params": {"message": "Drink"},
        "schedule": {"type": "interval", "every": 15, "period": "minutes"},
        **body,
    }
    response = client.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    return Job.objects.get(pk=response.json()["id"])


def run_once(job: Job) -> str | None:
    run = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    return runner.run_execute(run_id=run.pk)


def kinds_mailed() -> set[str]:
    return set(Notification.objects.values_list("kind", flat=True))


@pytest.fixture
def failing(monkeypatch):
    def explode(job, job_run):
        raise kinds.PermanentError("the relay said no")

    monkeypatch.setattr(reminder, "execute", explode)


def test_a_job_asking_for_succeeded_mails_it_though_the_preference_is_off(user_client, user):
    job = create(user_client, notify_on=["succeeded"])
    assert run_once(job) == "succeeded"
    mail = Notification.objects.get(kind="job_succeeded")
    assert mail.user == user and mail.status == "queued"


def test_a_job_asking_for_created_mails_it_though_the_preference_is_off(user_client, user):
    preferences_update(user=user, job_created=False)
    create(user_client, notify_on=["created"])
    assert Notification.objects.filter(kind="job_created").count() == 1


def test_a_job_leaving_failed_out_mails_no_failure_though_the_preference_is_on(
    user_client, user, failing
):
    job = create(user_client, notify_on=[])
    assert run_once(job) == "failed"
    assert kinds_mailed() == set()


def test_without_notify_on_a_new_job_takes_the_owner_s_preferences(user_client, user):
    assert user_client.get(f"{URL}{create(user_client).pk}/").json()["notify_on"] == [
        "failed"
    ]  # the preferences' defaults
    preferences_update(user=user, job_created=False, job_succeeded=True, job_failed=False)
    Notification.objects.all().delete()
    job = create(user_client)
    assert job.notify_on == ["succeeded"]
    assert run_once(job) == "succeeded"
    assert kinds_mailed() == {"job_succeeded", "reminder"}


def test_changing_a_preference_later_leaves_existing_jobs_as_they_are(user_client, user, failing):
    preferences_update(user=user, job_created=True)
    job = create(user_client)  # created, failed
    preferences_update(user=user, job_created=False, job_failed=False)
    assert run_once(job) == "failed"
    job.refresh_from_db()
    assert job.notify_on == ["created", "failed"]
    assert kinds_mailed() == {"job_created", "job_failed"}


def test_an_explicit_empty_notify_on_is_kept(user_client, user):
    job = create(user_client, notify_on=[])
    assert job.notify_on == [] and kinds_mailed() == set()


def test_preferences_still_govern_mail_not_tied_to_a_job(user):
    preferences_update(user=user, task_due_soon=False)
    assert notification_create(user=user, kind=Kind.TASK_DUE_SOON, context={}) is None
    assert not Notification.objects.exists()


def test_a_job_s_mail_is_never_sent_to_a_deactivated_owner(user):
    job = Job(owner=user, name="x", kind="reminder")
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    asked = notification_create(
        user=user, kind=Kind.JOB_CREATED, context={"job": job}, asked_by_job=True
    )
    assert asked is None and not Notification.objects.exists()


def test_a_job_s_mail_to_an_unverified_address_is_still_held(user_client, user):
    type(user).objects.filter(pk=user.pk).update(email_verified_at=None)
    user.refresh_from_db()
    create(user_client, notify_on=["created"])
    assert Notification.objects.get(kind="job_created").status == "held"


def test_a_job_s_mail_still_counts_against_the_hourly_limit(user_client, user, settings):
    settings.NOTIFICATIONS_PER_USER_PER_HOUR = 2
    for n in range(3):
        create(user_client, name=f"Water {n}", notify_on=["created"])
    statuses = list(
        Notification.objects.filter(kind="job_created")
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert statuses == ["queued", "queued", "suppressed"]
