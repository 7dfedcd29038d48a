"""Task analytics for staff: per-user completion rates and the system summary (admin API and
the dashboard), from aggregate queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from files.tests.factories import StoredFileFactory
from jobs.tests.helpers import make_job
from operations.admin_site import duration_words
from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db
USERS = "/api/v1/admin/analytics/users/"
SUMMARY = "/api/v1/admin/analytics/summary/"


def task(owner, *, age_days: float, took_hours: float | None = None) -> Task:
    """A task created `age_days` ago; done `took_hours` after that when given."""
    created = timezone.now() - timedelta(days=age_days)
    row = TaskFactory(owner=owner)
    done = took_hours is not None
    Task.objects.filter(pk=row.pk).update(
        created_at=created,
        status=Task.Status.DONE if done else Task.Status.TODO,
        completed_at=created + timedelta(hours=took_hours) if done else None,
    )
    return row


@pytest.fixture
def tasks_of(user, other_user):
    """user: 3 of 4 done; other_user: 1 of 4 done; staff (the caller): none."""
    task(user, age_days=30, took_hours=2)  # created and completed long ago
    task(user, age_days=3, took_hours=1)  # the fastest
    task(user, age_days=10, took_hours=200)  # the slowest, completed 10 d - 200 h ≈ 1.7 d ago
    task(user, age_days=1)
    task(other_user, age_days=20, took_hours=24)
    for _ in range(3):
        task(other_user, age_days=2)


def test_the_summary(staff_client, staff_user, user, other_user, tasks_of, media):
    make_job(user)
    make_job(user)
    make_job(other_user)
    StoredFileFactory(owner=user)
    response = staff_client.get(SUMMARY)
    assert response.status_code == 200
    data = response.json()
    data.pop("generated_at")
    assert data == {
        "users": 3,
        "avg_tasks_per_user": 2.67,
        "avg_jobs_per_user": 1.0,
        "avg_files_per_user": 0.33,
        "tasks": 8,
        "tasks_done": 4,
        "completion_rate": 0.5,
        "tasks_created_7d": 5,  # 3 d, 1 d and three of 2 d
        "tasks_completed_7d": 2,  # 3 d + 1 h, and 10 d + 200 h
        "fastest_completion_seconds": 3600.0,
        "slowest_completion_seconds": 200 * 3600.0,
    }


def test_the_summary_of_an_empty_platform_has_no_rates(staff_client):
    data = staff_client.get(SUMMARY).json()
    assert data["users"] == 1 and data["tasks"] == 0 and data["avg_tasks_per_user"] == 0.0
    assert data["completion_rate"] is None
    assert data["fastest_completion_seconds"] is None
    assert data["slowest_completion_seconds"] is None


def test_a_done_task_without_a_completion_time_counts_as_done_but_not_as_a_duration(
    staff_client, user
):
    TaskFactory(owner=user, status=Task.Status.DONE, completed_at=None)
    data = staff_client.get(SUMMARY).json()
    assert data["tasks_done"] == 1 and data["completion_rate"] == 1.0
    assert data["tasks_completed_7d"] == 0 and data["fastest_completion_seconds"] is None


def test_per_user_rates_best_first_and_users_without_tasks_last(
    staff_client, staff_user, user, other_user, tasks_of
):
    response = staff_client.get(USERS)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    rows = [
        (r["email"], r["tasks_total"], r["tasks_done"], r["completion_rate"])
        for r in data["results"]
    ]
    assert rows == [
        (user.email, 4, 3, 0.75),
        (other_user.email, 4, 1, 0.25),
        (staff_user.email, 0, 0, None),
    ]
    assert set(data["results"][0]) == {
        "id",
        "email",
        "full_name",
        "is_active",
        "tasks_total",
        "tasks_done",
        "completion_rate",
    }


def test_ordering_keeps_users_without_tasks_last_and_breaks_ties_by_id(
    staff_client, staff_user, user, other_user, tasks_of
):
    worst_first = staff_client.get(USERS, {"ordering": "completion_rate"}).json()["results"]
    assert [r["email"] for r in worst_first] == [other_user.email, user.email, staff_user.email]
    by_total = staff_client.get(USERS, {"ordering": "-tasks_total"}).json()["results"]
    assert [r["id"] for r in by_total] == [*sorted([user.pk, other_user.pk]), staff_user.pk]
    by_email = staff_client.get(USERS, {"ordering": "-email"}).json()["results"]
    assert [r["email"] for r in by_email] == sorted(
        [user.email, other_user.email, staff_user.email], reverse=True
    )
    # an unknown field is ignored, as on every list; the default order stays
    unknown = staff_client.get(USERS, {"ordering": "password"})
    assert unknown.status_code == 200 and unknown.json()["results"][0]["email"] == user.email


def test_per_user_rates_filter_and_paginate(staff_client, user, other_user, tasks_of):
    found = staff_client.get(USERS, {"search": other_user.email}).json()
    assert [r["email"] for r in found["results"]] == [other_user.email]
    assert staff_client.get(USERS, {"is_staff": "true"}).json()["count"] == 1
    page = staff_client.get(USERS, {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["next"] is None
    for bad in [{"is_active": "maybe"}, {"page": "9"}, {"page": "x\x00"}]:
        response = staff_client.get(USERS, bad)
        assert 400 <= response.status_code < 500
        assert "error" in response.json()


@pytest.mark.parametrize("users", [1, 50])
def test_per_user_rates_take_a_constant_number_of_queries(
    staff_client, users, django_assert_max_num_queries
):
    for owner in UserFactory.create_batch(users):
        task(owner, age_days=1, took_hours=1)
        task(owner, age_days=1)
    with django_assert_max_num_queries(4):  # auth user, count, page (+ a savepoint margin)
        data = staff_client.get(USERS, {"page_size": 100}).json()
    assert data["count"] == users + 1
    assert data["results"][0]["completion_rate"] == 0.5


@pytest.mark.parametrize("users", [1, 50])
def test_the_summary_takes_a_constant_number_of_queries(
    staff_client, users, django_assert_max_num_queries
):
    for owner in UserFactory.create_batch(users):
        task(owner, age_days=1, took_hours=1)
    with django_assert_max_num_queries(5):  # auth user, tasks, users, jobs, files
        assert staff_client.get(SUMMARY).json()["tasks_done"] == users


@pytest.mark.parametrize("path", [USERS, SUMMARY])
def test_analytics_are_staff_only(path, user_client, api_client, user, tasks_of):
    response = user_client.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api_client.get(path).status_code == 401


def test_the_schema_describes_the_analytics(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    summary = schema["paths"]["/api/v1/admin/analytics/summary/"]["get"]
    ref = summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/AnalyticsSummary")
    fields = schema["components"]["schemas"]["AnalyticsSummary"]["properties"]
    assert fields["completion_rate"]["nullable"] is True
    assert "slowest_completion_seconds" in fields
    users = schema["paths"]["/api/v1/admin/analytics/users/"]["get"]
    params = {p["name"] for p in users["parameters"]}
    assert {"ordering", "page", "page_size", "search", "is_active", "is_staff"} <= params
    rows = schema["components"]["schemas"]["UserCompletion"]["properties"]
    assert set(rows) >= {"tasks_total", "tasks_done", "completion_rate"}


def test_the_dashboard_shows_completion(admin_client, user, tasks_of):
    html = admin_client.get("/admin/").content.decode()
    assert 'id="card-completion"' in html and 'id="card-per-user"' in html
    assert "4 / 8" in html  # done / tasks
    assert "<td>1 h</td>" in html and "<td>8 d 8 h</td>" in html  # fastest, slowest
    table = html[html.index('id="completion-by-user"') :]
    assert table.index(user.email) < table.index("75 %")


def test_the_dashboard_without_tasks(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "No tasks yet." in html and 'id="card-completion"' in html


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "—"), (0, "0 s"), (59.9, "59 s"), (3725, "1 h 2 min"), (86400 + 30, "1 d 30 s")],
)
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words
