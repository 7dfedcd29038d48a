"""A task's attachments: who lists and downloads them (through the task), uploading straight
onto a task, detaching versus deleting the file."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from files.models import StoredFile
from files.tests.factories import StoredFileFactory
from taskplatform.exceptions import ApplicationError
from taskplatform.testing import client_for, stored_blobs
from tasks import services
from tasks.models import Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db

CONTENT = b"the attached bytes\n"


def attachments_url(task) -> str:
    return f"/api/v1/tasks/{task.pk}/attachments/"


def download_url(task, stored) -> str:
    return f"{attachments_url(task)}{stored.pk}/download/"


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def attached(task, **kwargs) -> StoredFile:
    stored = StoredFileFactory(owner=task.owner, **kwargs)
    task.attachments.add(stored)
    return stored


def upload(client, task, content=CONTENT, name="notes.txt", **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/plain"), **extra}
    return client.post(attachments_url(task), data, format="multipart")


# --- downloading: whoever sees the task, only its attachments ---------------------------------


def test_a_viewer_of_a_public_task_downloads_its_attachment_and_nothing_else(user, other_client):
    task = TaskFactory(owner=user, visibility="public")
    stored = attached(task, content=CONTENT)
    not_attached = StoredFileFactory(owner=user)
    on_another_task = attached(TaskFactory(owner=user), content=b"private")

    response = other_client.get(download_url(task, stored))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert response["Content-Disposition"] == f'attachment; filename="{stored.name}"'
    assert response["ETag"] == f'"{stored.sha256}"'
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Repr-Digest"].startswith("sha-256=:")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-cache"
    cached = other_client.get(download_url(task, stored), HTTP_IF_NONE_MATCH=response["ETag"])
    assert cached.status_code == 304

    # the owner's other files, through this task's URL: 404, as if they didn't exist
    error(other_client.get(download_url(task, not_attached)), 404, "not_found")
    error(other_client.get(download_url(task, on_another_task)), 404, "not_found")
    error(other_client.get(f"/api/v1/files/{stored.pk}/download/"), 404, "not_found")


def test_the_assignee_of_a_private_task_downloads_a_stranger_gets_404(
    user, other_user, other_client
):
    task = TaskFactory(owner=user, assignee=other_user)
    stored = attached(task)
    assert other_client.get(download_url(task, stored)).status_code == 200
    stranger = client_for(UserFactory())
    error(stranger.get(download_url(task, stored)), 404, "not_found")
    error(stranger.get(attachments_url(task)), 404, "not_found")


def test_owner_and_staff_download(user, user_client, staff_client):
    task = TaskFactory(owner=user)
    stored = attached(task)
    assert user_client.get(download_url(task, stored)).status_code == 200
    assert staff_client.get(download_url(task, stored)).status_code == 200


def test_a_missing_blob_is_a_clear_404(user, user_client, media):
    task = TaskFactory(owner=user)
    stored = attached(task)
    for blob in stored_blobs(media):
        blob.unlink()
    error(user_client.get(download_url(task, stored)), 404, "content_missing")


def test_huge_or_unknown_ids_are_404s(user, user_client):
    task = TaskFactory(owner=user)
    error(user_client.get(f"{attachments_url(task)}999999/download/"), 404, "not_found")
    assert user_client.get(f"{attachments_url(task)}{'9' * 40}/download/").status_code == 404
    assert user_client.get(f"/api/v1/tasks/{'9' * 40}/attachments/").status_code == 404


# --- listing --------------------------------------------------------------------------------


def test_the_list_shows_file_summaries_with_task_scoped_urls(user, other_client):
    task = TaskFactory(owner=user, visibility="public")
    first, second = attached(task), attached(task)
    StoredFileFactory(owner=user)  # not attached: not listed
    body = other_client.get(attachments_url(task)).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [first.pk, second.pk]
    row = body["results"][0]
    assert set(row) == {
        "id",
        "name",
        "size",
        "content_type",
        "sha256",
        "created_at",
        "download_url",
    }
    assert row["download_url"] == f"http://testserver{download_url(task, first)}"
    assert other_client.get(row["download_url"]).status_code == 200


@pytest.mark.parametrize("files", [1, 50])
def test_the_list_runs_a_constant_number_of_queries(
    user, user_client, files, django_assert_max_num_queries
):
    task = TaskFactory(owner=user)
    for _ in range(files):
        attached(task)
    with django_assert_max_num_queries(4):  # the user, the task, count, page
        body = user_client.get(attachments_url(task), {"page_size": 100}).json()
    assert body["count"] == files


# --- uploading onto a task --------------------------------------------------------------------


def test_the_owner_uploads_a_file_onto_the_task(user, user_client, media):
    task = TaskFactory(owner=user)
    digest = hashlib.sha256(CONTENT).hexdigest()
    response = upload(user_client, task, sha256=digest.upper())
    assert response.status_code == 201, response.content
    body = response.json()
    stored = StoredFile.objects.get()
    assert stored.owner == user and stored.sha256 == digest and stored.name == "notes.txt"
    assert body["id"] == stored.pk and body["download_url"].endswith(download_url(task, stored))
    assert list(task.attachments.all()) == [stored]
    # the owner's file like any other: the files API lists it
    assert [f["id"] for f in user_client.get("/api/v1/files/").json()["results"]] == [stored.pk]
    actions = AuditEvent.objects.values_list("action", flat=True)
    assert {"file.uploaded", "task.attachment_added"} <= set(actions)
    assert len(stored_blobs(media)) == 1


def test_a_checksum_mismatch_is_a_400_and_keeps_nothing(user, user_client, media):
    task = TaskFactory(owner=user)
    error(upload(user_client, task, sha256="0" * 64), 400, "checksum_mismatch")
    assert not StoredFile.objects.exists() and not task.attachments.exists()
    assert stored_blobs(media) == []
    assert not AuditEvent.objects.filter(action="task.attachment_added").exists()


def test_the_quota_is_a_413_and_keeps_nothing(user, user_client, settings, media):
    settings.FILES_USER_QUOTA_BYTES = 100
    StoredFileFactory(owner=user, content=b"y" * 60)
    task = TaskFactory(owner=user)
    details = error(upload(user_client, task, b"x" * 50), 413, "quota_exceeded")["details"]
    assert details == {"quota_bytes": 100, "used_bytes": 60, "size": 50}
    assert StoredFile.objects.count() == 1 and not task.attachments.exists()
    assert len(stored_blobs(media)) == 1


def test_type_size_and_shape_rules_apply(user, user_client, settings, media):
    task = TaskFactory(owner=user)
    settings.FILES_MAX_UPLOAD_BYTES = 10
    error(upload(user_client, task, b"x" * 11), 413, "file_too_large")
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    settings.FILES_ALLOWED_CONTENT_TYPES = ["image/png"]
    error(upload(user_client, task), 415, "unsupported_file_type")
    error(upload(user_client, task, sha256="not hex"), 400, "validation_error")
    missing = user_client.post(attachments_url(task), {"sha256": "a" * 64}, format="multipart")
    error(missing, 400, "validation_error")
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def test_only_the_owner_uploads(user, other_user, other_client, staff_client, media):
    public = TaskFactory(owner=user, visibility="public")
    assigned = TaskFactory(owner=user, assignee=other_user)
    error(upload(other_client, public), 403, "permission_denied")
    error(upload(other_client, assigned), 403, "permission_denied")
    error(upload(staff_client, public), 403, "permission_denied")
    error(upload(other_client, TaskFactory(owner=user)), 404, "not_found")
    assert not StoredFile.objects.exists() and stored_blobs(media) == []


def test_a_body_neither_json_nor_multipart_is_a_415(user, user_client):
    task = TaskFactory(owner=user)
    response = user_client.post(attachments_url(task), "file_id=1", content_type="text/plain")
    error(response, 415, "unsupported_media_type")


# --- detaching is not deleting ----------------------------------------------------------------


def test_detaching_keeps_the_file(user, user_client, media):
    task = TaskFactory(owner=user)
    stored = attached(task)
    assert user_client.delete(f"{attachments_url(task)}{stored.pk}/").status_code == 204
    assert not task.attachments.exists()
    assert StoredFile.objects.filter(pk=stored.pk).exists() and len(stored_blobs(media)) == 1
    assert user_client.get(f"/api/v1/files/{stored.pk}/download/").status_code == 200
    error(user_client.get(download_url(task, stored)), 404, "not_found")


def test_deleting_the_file_removes_it_from_its_tasks(user, user_client, media):
    first, second = TaskFactory(owner=user), TaskFactory(owner=user)
    stored = attached(first)
    second.attachments.add(stored)
    assert user_client.delete(f"/api/v1/files/{stored.pk}/").status_code == 204
    assert not first.attachments.exists() and not second.attachments.exists()
    assert user_client.get(attachments_url(first)).json()["count"] == 0
    assert stored_blobs(media) == []


def test_a_task_deleted_before_the_upload_is_attached_keeps_nothing(user, media):
    task = TaskFactory(owner=user)
    Task.objects.filter(pk=task.pk).delete()  # by another request, after the view loaded it
    with pytest.raises(ApplicationError) as refused:
        services.task_attachment_upload(
            task=task,
            actor=user,
            upload=SimpleUploadedFile("late.txt", CONTENT),
            sha256=hashlib.sha256(CONTENT).hexdigest(),
            head=CONTENT,
        )
    assert refused.value.code == "not_found"
    assert not StoredFile.objects.exists() and stored_blobs(media) == []
