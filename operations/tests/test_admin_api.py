"""The admin API: staff only (403 in the envelope otherwise), audited as admin.*."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from files.tests.factories import StoredFileFactory
from jobs.models import Job, JobRun
from jobs.tests.helpers import make_job
from notifications.models import Notification
from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/admin/"
ENDPOINTS = [
    ("get", "users/"),
    ("get", "users/{user}/"),
    ("patch", "users/{user}/"),
    ("delete", "users/{user}/"),
    ("get", "jobs/"),
    ("get", "jobs/{job}/"),
    ("post", "jobs/{job}/cancel/"),
    ("get", "stats/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_non_staff_get_403_and_anonymous_401(method, path, user_client, api_client, other_user):
    job = make_job(other_user)
    url = API + path.format(user=other_user.pk, job=job.pk)
    response = getattr(user_client, method)(url, {"is_active": False}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert getattr(api_client, method)(url, {}, format="json").status_code == 401
    other_user.refresh_from_db()
    assert other_user.is_active and Job.objects.get(pk=job.pk).status == "active"


def test_staff_list_and_search_users(staff_client, user, other_user):
    make_job(user)
    TaskFactory(owner=user)
    TaskFactory(owner=user)
    data = staff_client.get(API + "users/", {"search": user.email}).json()
    assert data["count"] == 1
    row = data["results"][0]
    assert row["email"] == user.email and row["jobs"] == 1 and row["tasks"] == 2
    assert staff_client.get(API + "users/", {"is_staff": "true"}).json()["count"] == 1
    assert staff_client.get(API + "users/", {"is_active": "maybe"}).status_code == 400
    assert staff_client.get(API + "users/", {"ordering": "-date_joined"}).status_code == 200


def test_deactivating_kills_tokens_pauses_jobs_and_blocks_login(
    ops_client, api_client, user, password
):
    staff_client = ops_client
    job = make_job(user, schedule="interval")
    queued = JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    refresh = str(RefreshToken.for_user(user))
    response = staff_client.patch(f"{API}users/{user.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    job.refresh_from_db()
    assert job.status == "paused"
    assert (
        api_client.post("/api/v1/auth/refresh/", {"refresh": refresh}, format="json").status_code
        == 401
    )
    login = api_client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert login.status_code == 401
    event = AuditEvent.objects.get(action="admin.user_deactivated")
    assert event.details == {"refresh_tokens_revoked": 1, "jobs_paused": 1, "runs_cancelled": 1}
    assert JobRun.objects.get(pk=queued.pk).status == "cancelled"
    from notifications.services import notification_create

    user.refresh_from_db()
    assert notification_create(user=user, kind="reminder", context={"message": "x"}) is None

    # reactivating lets them in again but does not resume jobs silently
    assert (
        staff_client.patch(f"{API}users/{user.pk}/", {"is_active": True}, format="json").status_code
        == 200
    )
    job.refresh_from_db()
    assert job.status == "paused"
    login = api_client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert login.status_code == 200
    assert AuditEvent.objects.filter(action="admin.user_activated").count() == 1


def test_staff_cannot_deactivate_or_delete_themselves(ops_client, staff_user):
    staff_client = ops_client
    response = staff_client.patch(
        f"{API}users/{staff_user.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 409
    assert staff_client.delete(f"{API}users/{staff_user.pk}/").status_code == 409
    staff_user.refresh_from_db()
    assert staff_user.is_active


def test_bad_patch_is_a_400(ops_client, user):
    staff_client = ops_client
    for body in [{}, {"is_active": "perhaps"}]:
        response = staff_client.patch(f"{API}users/{user.pk}/", body, format="json")
        assert response.status_code == 400
    assert (
        staff_client.put(f"{API}users/{user.pk}/", {"is_active": False}, format="json").status_code
        == 405
    )
    assert staff_client.get(f"{API}users/999999/").status_code == 404


def test_deleting_a_user_removes_everything_and_their_blobs(
    ops_client, staff_user, user, other_user, media
):
    staff_client = ops_client
    from taskplatform.testing import stored_blobs

    StoredFileFactory(owner=user)
    StoredFileFactory(owner=user)
    kept = StoredFileFactory(owner=other_user)
    task = TaskFactory(owner=user)
    job = make_job(user)
    JobRun.objects.create(job=job, trigger="manual", scheduled_for=timezone.now())
    Notification.objects.create(user=user, to_email=user.email, kind="welcome", subject="Hi")
    # the user's own audit trail, by them
    from audit.services import audit_record

    audit_record(actor=user, action="user.login", target=user)
    email = user.email

    assert staff_client.delete(f"{API}users/{user.pk}/").status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()
    assert not Job.objects.exists() and not JobRun.objects.exists()
    assert not Notification.objects.filter(to_email=email).exists()
    assert [p.name for p in stored_blobs(media)] == [kept.storage_key.split("/")[-1]]
    login_event = AuditEvent.objects.get(action="user.login")
    assert login_event.actor_id is None and login_event.actor_email == email
    deleted = AuditEvent.objects.get(action="admin.user_deleted")
    assert deleted.actor_email == staff_user.email
    assert deleted.details | {"email": email} == {
        "email": email,
        "tasks": 1,
        "jobs": 1,
        "files": 2,
        "bytes": deleted.details["bytes"],
    }


def test_staff_see_every_user_s_jobs_and_cancel_one(ops_client, user, other_user):
    staff_client = ops_client
    mine = make_job(user, kind="task_digest")
    theirs = make_job(other_user)
    data = staff_client.get(API + "jobs/").json()
    assert data["count"] == 2
    assert {row["owner"] for row in data["results"]} == {user.email, other_user.email}
    assert staff_client.get(API + "jobs/", {"owner": user.pk}).json()["results"][0]["id"] == mine.pk
    assert staff_client.get(API + "jobs/", {"kind": "reminder"}).json()["count"] == 1
    assert staff_client.get(API + "jobs/", {"status": "bogus"}).status_code == 400
    response = staff_client.post(f"{API}jobs/{theirs.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert staff_client.post(f"{API}jobs/{theirs.pk}/cancel/").status_code == 409
    assert AuditEvent.objects.filter(action="admin.job_cancelled").count() == 1


def test_stats(staff_client, user, media):
    make_job(user)
    TaskFactory(owner=user, status="done")
    StoredFileFactory(owner=user, content=b"12345")
    UserFactory(is_active=False)
    data = staff_client.get(API + "stats/").json()
    assert data["users"]["total"] == 3 and data["users"]["active"] == 2
    assert data["tasks_by_status"]["done"] == 1 and data["tasks_by_status"]["todo"] == 0
    assert data["jobs_by_status"] == {"active": 1, "paused": 0, "completed": 0, "cancelled": 0}
    assert set(data["runs_24h_by_status"]) >= {"queued", "succeeded", "failed"}
    assert data["storage"] == {"files": 1, "bytes": 5}
    assert {"sent", "failed", "queued"} <= set(data["notifications"])


def test_changes_need_the_model_permissions_too(staff_client, user):
    """Plain staff read; deactivating, deleting and cancelling need change/delete perms."""
    job = make_job(user)
    assert staff_client.get(API + "users/").status_code == 200
    assert (
        staff_client.patch(
            f"{API}users/{user.pk}/", {"is_active": False}, format="json"
        ).status_code
        == 403
    )
    assert staff_client.delete(f"{API}users/{user.pk}/").status_code == 403
    assert staff_client.post(f"{API}jobs/{job.pk}/cancel/").status_code == 403
    user.refresh_from_db()
    assert user.is_active and Job.objects.get(pk=job.pk).status == "active"


def test_only_a_superuser_may_deactivate_or_delete_a_superuser(ops_client):
    root = UserFactory(is_staff=True, is_superuser=True)
    response = ops_client.patch(f"{API}users/{root.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 403
    assert ops_client.delete(f"{API}users/{root.pk}/").status_code == 403
    root.refresh_from_db()
    assert root.is_active
