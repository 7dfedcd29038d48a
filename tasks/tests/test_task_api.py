"""Task CRUD: owner / other user / staff, assignee rights, visibility, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from tasks.models import Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def detail(task):
    return f"{URL}{task.pk}/"


def test_create_returns_the_full_task(user_client, user):
    due = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = user_client.post(
        URL,
        {
            "title": "Write report",
            "description": "Q4",
            "priority": "high",
            "due_at": due.isoformat(),
            "tags": ["Work", "urgent"],
            "visibility": "public",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == {"id": user.pk, "name": user.full_name, "email": user.email}
    assert body["status"] == "todo" and body["priority"] == "high"
    assert body["tags"] == ["Work", "urgent"] and body["assignee"] is None
    assert body["attachments"] == [] and body["completed_at"] is None
    assert AuditEvent.objects.filter(action="task.created", target_id=str(body["id"])).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "status": "finished"},
        {"title": "ok", "priority": "urgent"},
        {"title": "ok", "due_at": "tomorrow"},
        {"title": "ok", "tags": "work"},
        {"title": "ok", "tags": [""]},
        {"title": "ok", "assignee_id": 999999},
        {"title": "ok", "assignee_id": 2**70},
        {"title": "nul\x00byte"},
        {},
    ],
)
def test_bad_input_is_a_400_and_creates_nothing(user_client, body):
    response = user_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert not Task.objects.exists()


def test_tags_are_per_owner_and_case_insensitive(user_client, user):
    user_client.post(URL, {"title": "a", "tags": ["Work"]}, format="json")
    user_client.post(URL, {"title": "b", "tags": ["work", "WORK"]}, format="json")
    assert list(user.tags.values_list("name", flat=True)) == ["Work"]


def test_detail_trio_for_a_private_task(user_client, other_client, staff_client, user):
    task = TaskFactory(owner=user)
    assert user_client.get(detail(task)).status_code == 200
    assert other_client.get(detail(task)).status_code == 404
    assert staff_client.get(detail(task)).status_code == 200


def test_writes_trio(user_client, other_client, staff_client, user):
    private = TaskFactory(owner=user)
    public = TaskFactory(owner=user, visibility="public")
    # invisible: 404; visible but not mine: 403
    assert other_client.patch(detail(private), {"title": "x"}, format="json").status_code == 404
    forbidden = other_client.patch(detail(public), {"title": "x"}, format="json")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert other_client.delete(detail(public)).status_code == 403
    assert staff_client.patch(detail(private), {"title": "x"}, format="json").status_code == 403
    assert user_client.patch(detail(private), {"title": "mine"}, format="json").status_code == 200
    assert Task.objects.get(pk=public.pk).title == public.title


def test_patch_audits_the_changed_fields_and_tracks_completion(user_client, user):
    task = TaskFactory(owner=user)
    done = user_client.patch(
        detail(task), {"status": "done", "priority": "critical"}, format="json"
    ).json()
    assert done["completed_at"] is not None and done["priority"] == "critical"
    event = AuditEvent.objects.get(action="task.updated")
    assert event.details["changed"]["status"] == {"from": "todo", "to": "done"}
    assert event.details["changed"]["priority"] == {"from": "medium", "to": "critical"}
    reopened = user_client.patch(detail(task), {"status": "todo"}, format="json").json()
    assert reopened["completed_at"] is None


def test_put_replaces_every_field(user_client, user):
    task = TaskFactory(owner=user, description="old", priority=4)
    body = user_client.put(detail(task), {"title": "New"}, format="json").json()
    assert body["title"] == "New" and body["description"] == "" and body["priority"] == "medium"
    assert (
        user_client.put(detail(task), {"description": "no title"}, format="json").status_code == 400
    )


def test_delete(user_client, user):
    task = TaskFactory(owner=user)
    assert user_client.delete(detail(task)).status_code == 204
    assert not Task.objects.exists()
    assert AuditEvent.objects.filter(action="task.deleted").exists()


def test_assignment_notifies_and_lets_the_assignee_change_the_status(
    user_client, other_client, other_user, user, django_capture_on_commit_callbacks
):
    task = TaskFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.patch(detail(task), {"assignee_id": other_user.pk}, format="json")
    assert response.json()["assignee"] == {
        "id": other_user.pk,
        "name": other_user.full_name,
        "email": None,  # not the caller's own address
    }
    assert [m.to for m in mail.outbox] == [[other_user.email]]
    assert mail.outbox[0].subject == f"Assigned to you: {task.title}"
    assert AuditEvent.objects.filter(action="task.assigned").exists()
    # the assignee sees the private task, finds it with ?assignee=me, may change its status
    assert [t["id"] for t in other_client.get(URL, {"assignee": "me"}).json()["results"]] == [
        task.pk
    ]
    assert (
        other_client.patch(detail(task), {"status": "in_progress"}, format="json").status_code
        == 200
    )
    assert other_client.patch(detail(task), {"title": "mine now"}, format="json").status_code == 403
    assert other_client.delete(detail(task)).status_code == 403
    user_client.patch(detail(task), {"assignee_id": None}, format="json")
    assert AuditEvent.objects.filter(action="task.unassigned").exists()
    assert other_client.get(detail(task)).status_code == 404


def test_attachments(user_client, other_client, user, other_user):
    from files.tests.factories import StoredFileFactory

    task = TaskFactory(owner=user, visibility="public")
    mine = StoredFileFactory(owner=user)
    theirs = StoredFileFactory(owner=other_user)
    url = f"{detail(task)}attachments/"
    assert user_client.post(url, {"file_id": theirs.pk}, format="json").status_code == 400
    added = user_client.post(url, {"file_id": mine.pk}, format="json")
    assert added.status_code == 201 and added.json()["id"] == mine.pk
    assert [a["id"] for a in user_client.get(detail(task)).json()["attachments"]] == [mine.pk]
    assert other_client.post(url, {"file_id": mine.pk}, format="json").status_code == 403
    assert other_client.delete(f"{url}{mine.pk}/").status_code == 403
    assert user_client.delete(f"{url}{mine.pk}/").status_code == 204
    assert user_client.delete(f"{url}{mine.pk}/").status_code == 404
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"task.attachment_added", "task.attachment_removed"} <= actions


def test_anonymous_gets_401(api_client, user):
    task = TaskFactory(owner=user, visibility="public")
    assert api_client.get(URL).status_code == 401
    assert api_client.get(detail(task)).status_code == 401
