"""The words defined once next to the models: open, overdue, priority labels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from tasks.models import Priority, Task, overdue_condition

from .factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(user):
    now = timezone.now()
    return {
        "late": TaskFactory(owner=user, status="in_progress", due_at=now - timedelta(hours=1)),
        "late_blocked": TaskFactory(owner=user, status="blocked", due_at=now - timedelta(days=3)),
        "late_but_done": TaskFactory(owner=user, status="done", due_at=now - timedelta(hours=1)),
        "undated": TaskFactory(owner=user, status="todo", due_at=None),
        "later": TaskFactory(owner=user, status="todo", due_at=now + timedelta(hours=1)),
    }


def names(queryset, tasks) -> set[str]:
    ids = set(queryset.values_list("pk", flat=True))
    return {name for name, task in tasks.items() if task.pk in ids}


def test_open_is_every_status_but_done(tasks):
    assert names(Task.objects.open(), tasks) == {"late", "late_blocked", "undated", "later"}


def test_overdue_excludes_done_and_undated_tasks(tasks):
    assert names(Task.objects.overdue(), tasks) == {"late", "late_blocked"}
    not_overdue = Task.objects.exclude(overdue_condition())
    assert names(not_overdue, tasks) == {"late_but_done", "undated", "later"}


def test_overdue_is_relative_to_the_now_given(tasks):
    in_two_hours = timezone.now() + timedelta(hours=2)
    assert names(Task.objects.overdue(now=in_two_hours), tasks) == {
        "late",
        "late_blocked",
        "later",
    }


def test_the_condition_counts_what_the_queryset_filters(tasks):
    counted = Task.objects.aggregate(n=Count("pk", filter=overdue_condition()))["n"]
    assert counted == Task.objects.overdue().count() == 2


@pytest.mark.parametrize("priority", list(Priority))
def test_priority_labels_round_trip(priority):
    assert Priority.from_label(Priority.label_of(priority.value)) == priority
    assert Priority.label_of(priority.value) == priority.label


def test_an_unknown_priority_label_is_a_value_error():
    with pytest.raises(ValueError, match="urgent"):
        Priority.from_label("urgent")
    with pytest.raises(ValueError):
        Priority.from_label("High")  # labels are lower case, as the API spells them


def test_the_admin_overdue_filter(admin_client, tasks):
    url = "/admin/tasks/task/"
    overdue = admin_client.get(url, {"overdue": "yes"}).context["cl"].queryset
    assert names(overdue, tasks) == {"late", "late_blocked"}
    others = admin_client.get(url, {"overdue": "no"}).context["cl"].queryset
    assert names(others, tasks) == {"late_but_done", "undated", "later"}
