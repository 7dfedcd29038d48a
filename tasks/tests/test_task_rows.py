"""task_rows (the API's rows, in a constant number of queries) and task_update's arguments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from files.tests.factories import StoredFileFactory
from tasks import selectors, services
from tasks.api.serializers import TaskSerializer
from tasks.models import Priority

from .factories import TagFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_a_row_has_exactly_the_serializer_s_fields(user, other_user):
    task = TaskFactory(owner=user, assignee=other_user)
    (row,) = selectors.task_rows(tasks=list(selectors.task_list(user=user)), viewer=user)
    assert list(row) == list(TaskSerializer().fields)
    assert row["id"] == task.pk
    assert row["owner"] == {"id": user.pk, "name": user.full_name, "email": user.email}
    assert row["assignee"] == {"id": other_user.pk, "name": other_user.full_name, "email": None}


def test_a_row_renders_as_drf_s_own_walk_would(user, other_user):
    TaskFactory(owner=user, assignee=other_user, due_at=timezone.now(), description="x")
    (row,) = selectors.task_rows(tasks=list(selectors.task_list(user=user)), viewer=user)
    fast = TaskSerializer(row)
    assert fast.data == serializers.Serializer.to_representation(fast, row)
    assert fast.data["priority"] == "medium" and fast.data["due_at"].endswith("Z")


def test_rows_carry_sorted_tags_and_attachments_in_one_query(user, django_assert_num_queries):
    tasks = [TaskFactory(owner=user) for _ in range(3)]
    tasks[0].tags.add(TagFactory(owner=user, name="b"), TagFactory(owner=user, name="A"))
    stored = StoredFileFactory(owner=user)
    tasks[2].attachments.add(stored)
    page = list(selectors.task_list(user=user).order_by("id"))
    with django_assert_num_queries(1):
        rows = selectors.task_rows(tasks=page, viewer=user)
    assert [row["tags"] for row in rows] == [["A", "b"], [], []]
    assert rows[0]["assignee"] is None and rows[0]["attachments"] == []
    assert rows[2]["attachments"] == [
        {
            "id": stored.pk,
            "name": stored.name,
            "size": stored.size,
            "content_type": stored.content_type,
            "sha256": stored.sha256,
        }
    ]


def test_no_rows_for_no_tasks(user):
    assert selectors.task_rows(tasks=[], viewer=user) == []


def test_task_count_counts_the_owner_s_tasks(user, other_user):
    TaskFactory.create_batch(2, owner=user)
    TaskFactory(owner=other_user, assignee=user)
    assert selectors.task_count(owner=user) == 2


def test_update_leaves_what_is_not_given(user, other_user):
    due = timezone.now() + timedelta(days=1)
    task = TaskFactory(
        owner=user, title="Keep", priority=Priority.HIGH, due_at=due, assignee=other_user
    )
    task.tags.add(TagFactory(owner=user, name="kept"))
    services.task_update(task=task, actor=user, status="in_progress")
    task.refresh_from_db()
    assert (task.title, task.priority, task.due_at, task.assignee) == (
        "Keep",
        Priority.HIGH,
        due,
        other_user,
    )
    assert task.status == "in_progress"
    assert [tag.name for tag in task.tags.all()] == ["kept"]


def test_update_takes_none_as_a_value(user, other_user):
    task = TaskFactory(owner=user, due_at=timezone.now(), assignee=other_user)
    services.task_update(task=task, actor=user, due_at=None, assignee=None, tags=[])
    task.refresh_from_db()
    assert task.due_at is None and task.assignee is None


def test_plain_rows_and_tasks_give_the_same_api_rows(user, other_user, staff_user):
    TaskFactory(owner=user, assignee=other_user, due_at=timezone.now(), description="x")
    TaskFactory(owner=other_user, visibility="public")
    TaskFactory(owner=other_user, assignee=user).tags.add(TagFactory(owner=other_user))
    for viewer in (user, other_user, staff_user):
        tasks = list(selectors.task_list(user=viewer).order_by("id"))
        values = list(selectors.task_list_values(user=viewer).order_by("id"))
        assert selectors.task_rows(tasks=values, viewer=viewer) == selectors.task_rows(
            tasks=tasks, viewer=viewer
        )
