from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks.models import Priority, Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/stats/"


def completed(user, hours: float, days_ago: int = 0):
    finished = timezone.now() - timedelta(days=days_ago)
    task = TaskFactory(owner=user, status="done", completed_at=finished)
    Task.objects.filter(pk=task.pk).update(created_at=finished - timedelta(hours=hours))
    return task


def test_stats_of_my_tasks(user_client, user, other_user):
    completed(user, 2)
    completed(user, 4, days_ago=1)
    completed(user, 9, days_ago=3)
    TaskFactory(owner=user, priority=Priority.CRITICAL, due_at=timezone.now() - timedelta(days=1))
    TaskFactory(owner=user, status="blocked")
    TaskFactory(owner=other_user)  # not counted
    body = user_client.get(URL).json()
    assert body["total"] == 5
    assert body["by_status"] == {"todo": 1, "in_progress": 0, "done": 3, "blocked": 1}
    assert body["by_priority"] == {"low": 0, "medium": 4, "high": 0, "critical": 1}
    assert body["completion_rate"] == 0.6
    assert body["avg_completion_hours"] == 5.0 and body["median_completion_hours"] == 4.0
    assert body["overdue"] == 1
    days = body["completed_per_day"]
    assert len(days) == 30 and days[-1]["count"] == 1 and sum(d["count"] for d in days) == 3
    assert days[-1]["date"] == timezone.now().date().isoformat()


def test_stats_of_nothing(user_client):
    body = user_client.get(URL).json()
    assert body["total"] == 0 and body["completion_rate"] == 0.0
    assert body["avg_completion_hours"] is None and body["median_completion_hours"] is None


def test_stats_need_authentication(api_client):
    assert api_client.get(URL).status_code == 401


def test_days_follow_the_users_time_zone(user_client, user):
    user.timezone = "Pacific/Kiritimati"  # UTC+14
    user.save()
    body = user_client.get(URL).json()
    local_today = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo(user.timezone))
    assert body["completed_per_day"][-1]["date"] == local_today.date().isoformat()
