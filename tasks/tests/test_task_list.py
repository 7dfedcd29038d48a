"""Listing: visibility, every filter, ordering by severity, constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks.models import Priority

from .factories import TagFactory, TaskFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_visibility_owner_other_staff(user_client, other_client, staff_client, user, other_user):
    private = TaskFactory(owner=user)
    public = TaskFactory(owner=user, visibility="public")
    assigned = TaskFactory(owner=user, assignee=other_user)
    theirs = TaskFactory(owner=other_user)
    assert set(ids(user_client.get(URL))) == {private.pk, public.pk, assigned.pk}
    assert set(ids(other_client.get(URL))) == {public.pk, assigned.pk, theirs.pk}
    assert set(ids(staff_client.get(URL))) == {private.pk, public.pk, assigned.pk, theirs.pk}


def test_filters(user_client, user, other_user):
    now = timezone.now()
    a = TaskFactory(
        owner=user,
        title="Buy milk",
        status="todo",
        priority=Priority.LOW,
        due_at=now - timedelta(days=1),
    )
    b = TaskFactory(
        owner=user,
        title="Report",
        description="about MILK prices",
        status="in_progress",
        priority=Priority.CRITICAL,
        due_at=now + timedelta(days=3),
    )
    c = TaskFactory(owner=user, title="Done thing", status="done", due_at=now - timedelta(days=2))
    d = TaskFactory(owner=user, title="Assigned", assignee=other_user)
    work = TagFactory(owner=user, name="Work")
    b.tags.add(work)
    d.tags.add(TagFactory(owner=user, name="home"))
    assert set(ids(user_client.get(URL, {"search": "milk"}))) == {a.pk, b.pk}
    assert set(ids(user_client.get(URL, {"status": "todo,in_progress"}))) == {a.pk, b.pk, d.pk}
    assert ids(user_client.get(URL, {"priority": "critical"})) == [b.pk]
    assert set(ids(user_client.get(URL, {"tags": "work,HOME"}))) == {b.pk, d.pk}
    assert ids(user_client.get(URL, {"overdue": "true"})) == [a.pk]
    assert set(ids(user_client.get(URL, {"overdue": "false"}))) == {b.pk, c.pk, d.pk}
    window = {
        "due_from": (now - timedelta(days=1, hours=1)).isoformat(),
        "due_to": (now + timedelta(days=4)).isoformat(),
    }
    assert set(ids(user_client.get(URL, window))) == {a.pk, b.pk}
    assert ids(user_client.get(URL, {"assignee": other_user.pk})) == [d.pk]
    assert len(ids(user_client.get(URL, {"owner": "me"}))) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nope"},
        {"priority": "urgent"},
        {"owner": "someone"},
        {"assignee": "9" * 30},
        {"due_from": "yesterday"},
        {"overdue": "perhaps"},
        {"search": "a\x00b"},
    ],
)
def test_bad_filters_are_400(user_client, params):
    response = user_client.get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"


def test_ordering_by_priority_is_by_severity_and_due_dates_put_blanks_last(user_client, user):
    now = timezone.now()
    low = TaskFactory(owner=user, priority=Priority.LOW, due_at=now + timedelta(days=1))
    crit = TaskFactory(owner=user, priority=Priority.CRITICAL)
    high = TaskFactory(owner=user, priority=Priority.HIGH, due_at=now + timedelta(days=2))
    medium = TaskFactory(owner=user, priority=Priority.MEDIUM, due_at=now)
    assert ids(user_client.get(URL, {"ordering": "-priority"})) == [
        crit.pk,
        high.pk,
        medium.pk,
        low.pk,
    ]
    assert ids(user_client.get(URL, {"ordering": "due_at"})) == [
        medium.pk,
        low.pk,
        high.pk,
        crit.pk,
    ]
    assert ids(user_client.get(URL, {"ordering": "-due_at"})) == [
        high.pk,
        low.pk,
        medium.pk,
        crit.pk,
    ]
    titles = [t["title"] for t in user_client.get(URL, {"ordering": "title"}).json()["results"]]
    assert titles == sorted(titles)


def test_the_list_runs_a_constant_number_of_queries(
    user_client, user, other_user, django_assert_max_num_queries
):
    from files.tests.factories import StoredFileFactory

    def make():
        task = TaskFactory(owner=user, assignee=other_user)
        task.tags.add(TagFactory(owner=user))
        task.attachments.add(StoredFileFactory(owner=user))

    make()
    with django_assert_max_num_queries(6):
        assert len(ids(user_client.get(URL))) == 1
    for _ in range(99):
        make()
    with django_assert_max_num_queries(6):
        assert len(ids(user_client.get(URL, {"page_size": 100}))) == 100
