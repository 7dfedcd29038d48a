"""Staff granted tasks.change_task / tasks.delete_task edit, assign, close and delete any task
through the API, audited as themselves; staff without them read only; plain users never."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from taskplatform.testing import client_for
from tasks.models import Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db


def detail(task) -> str:
    return f"/api/v1/tasks/{task.pk}/"


def granted(user, *codenames: str):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="tasks", codename__in=codenames)
    )
    return client_for(user)


def test_staff_with_change_task_edit_assign_and_close_any_task(
    user, other_user, staff_user, django_capture_on_commit_callbacks
):
    staff = granted(staff_user, "change_task")
    task = TaskFactory(owner=user)  # private, not theirs
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.patch(
            detail(task),
            {"title": "Fixed by support", "assignee_id": other_user.pk, "tags": ["Support"]},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == other_user.pk
    closed = staff.patch(detail(task), {"status": "done"}, format="json").json()
    assert closed["status"] == "done" and closed["completed_at"] is not None
    task.refresh_from_db()
    assert task.owner == user and task.title == "Fixed by support"
    assert list(task.tags.values_list("owner_id", "name")) == [(user.pk, "Support")]

    updates = AuditEvent.objects.filter(action="task.updated", target_id=str(task.pk))
    assert updates.count() == 2
    for event in updates:
        assert event.actor == staff_user and event.actor_email == staff_user.email
        assert event.details["as_staff"] is True
    assigned = AuditEvent.objects.get(action="task.assigned")
    assert assigned.actor == staff_user and assigned.details == {"from": None, "to": other_user.pk}
    # the assignee hears of it, from the staff member
    assert [m.to for m in mail.outbox] == [[other_user.email]]
    assert staff_user.full_name in mail.outbox[0].body


def test_staff_with_change_task_put_any_task(user, staff_user):
    task = TaskFactory(owner=user, description="old")
    body = granted(staff_user, "change_task").put(detail(task), {"title": "New"}, format="json")
    assert body.status_code == 200 and body.json()["description"] == ""


def test_staff_without_the_permission_only_read(user, staff_client):
    task = TaskFactory(owner=user)
    assert staff_client.get(detail(task)).status_code == 200
    for response in (
        staff_client.patch(detail(task), {"status": "done"}, format="json"),
        staff_client.put(detail(task), {"title": "x"}, format="json"),
        staff_client.delete(detail(task)),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    task.refresh_from_db()
    assert task.status == "todo" and not AuditEvent.objects.filter(action="task.updated").exists()


def test_change_task_does_not_grant_delete(user, staff_user):
    staff = granted(staff_user, "change_task")
    task = TaskFactory(owner=user)
    assert staff.delete(detail(task)).status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


def test_staff_with_delete_task_delete_any_task(user, staff_user):
    staff = granted(staff_user, "delete_task")
    task = TaskFactory(owner=user, visibility="public")
    assert staff.patch(detail(task), {"title": "x"}, format="json").status_code == 403
    assert staff.delete(detail(task)).status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()
    event = AuditEvent.objects.get(action="task.deleted")
    assert event.actor == staff_user and event.details == {"title": task.title, "as_staff": True}


def test_a_plain_user_with_the_permissions_still_cannot(user, other_user):
    plain = granted(other_user, "change_task", "delete_task")
    public = TaskFactory(owner=user, visibility="public")
    assert plain.patch(detail(public), {"title": "x"}, format="json").status_code == 403
    assert plain.delete(detail(public)).status_code == 403
    assert plain.patch(detail(TaskFactory(owner=user)), {}, format="json").status_code == 404
    assert Task.objects.get(pk=public.pk).title == public.title


def test_a_superuser_is_staff_with_every_permission(user):
    root = client_for(UserFactory(is_staff=True, is_superuser=True))
    task = TaskFactory(owner=user)
    assert root.patch(detail(task), {"status": "done"}, format="json").status_code == 200
    assert root.delete(detail(task)).status_code == 204


def test_the_owner_edits_are_not_marked_as_staff(user, user_client):
    task = TaskFactory(owner=user)
    user_client.patch(detail(task), {"title": "mine"}, format="json")
    assert "as_staff" not in AuditEvent.objects.get(action="task.updated").details


def test_staff_do_not_attach_or_detach(user, staff_user):
    from files.tests.factories import StoredFileFactory

    staff = granted(staff_user, "change_task", "delete_task")
    task = TaskFactory(owner=user)
    stored = StoredFileFactory(owner=user)
    url = f"{detail(task)}attachments/"
    assert staff.post(url, {"file_id": stored.pk}, format="json").status_code == 403
    task.attachments.add(stored)
    assert staff.delete(f"{url}{stored.pk}/").status_code == 403
    assert staff.get(f"{url}{stored.pk}/download/").status_code == 200


# --- the admin closes tasks through the same service ------------------------------------------

ADMIN = "/admin/tasks/task/"


def test_the_admin_closes_selected_tasks_audited(admin_client, user):
    task = TaskFactory(owner=user)
    assert b'value="close"' in admin_client.get(ADMIN).content
    response = admin_client.post(ADMIN, {"action": "close", "_selected_action": [task.pk]})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None
    event = AuditEvent.objects.get(action="task.updated")
    assert event.actor_email == "root@example.com" and event.details["as_staff"] is True


def test_staff_who_may_only_view_tasks_get_no_close_action(client, user, staff_user):
    staff_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="tasks", codename="view_task")
    )
    client.force_login(staff_user)
    task = TaskFactory(owner=user)
    page = client.get(ADMIN)
    assert page.status_code == 200 and b'value="close"' not in page.content
    client.post(ADMIN, {"action": "close", "_selected_action": [task.pk]})
    task.refresh_from_db()
    assert task.status == "todo"
