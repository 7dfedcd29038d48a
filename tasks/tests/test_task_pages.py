"""Pages of the task list: the count capped past COUNT_CAP (count_exact), page numbers past
the cap, and `?cursor=` walking the whole list in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taskplatform.api import pagination
from tasks.models import Priority, Task

from .factories import TaskFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


@pytest.fixture
def tasks(user):
    """Eight tasks with ties and nulls in due_at and priority."""
    now = timezone.now().replace(microsecond=123456)
    due = [now, now, None, now + timedelta(hours=1), None, now - timedelta(days=1), now, None]
    return [
        TaskFactory(owner=user, due_at=d, priority=Priority.HIGH if i % 3 else Priority.LOW)
        for i, d in enumerate(due)
    ]


@pytest.fixture
def cap_of_five(monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)


def _get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def _ids(body):
    return [row["id"] for row in body["results"]]


def test_a_list_on_one_page_is_counted_without_a_count_query(user_client, tasks):
    with CaptureQueriesContext(connection) as queries:
        body = _get(user_client)
    assert (body["count"], body["count_exact"], body["next"], body["previous"]) == (
        8,
        True,
        None,
        None,
    )
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_small_list_keeps_its_envelope(user_client, tasks):
    body = _get(user_client, page_size=3, page=2)
    assert list(body) == ["count", "count_exact", "next", "previous", "results"]
    assert (body["count"], body["count_exact"], len(body["results"])) == (8, True, 3)
    assert "page=3" in body["next"] and "page=" not in body["previous"]


def test_past_the_cap_the_count_is_the_cap_and_inexact(user_client, tasks, cap_of_five):
    first = _get(user_client, page_size=2)
    assert (first["count"], first["count_exact"]) == (5, False)
    third = _get(user_client, page_size=2, page=3)  # past the capped count's pages
    assert (third["count"], third["count_exact"]) == (5, False) and third["next"]
    last = _get(user_client, page_size=2, page=4)  # the last page knows the whole count
    assert (last["count"], last["count_exact"], last["next"]) == (8, True, None)
    assert _ids(_get(user_client, page_size=2, page="last")) == _ids(last)
    assert user_client.get(URL, {"page_size": 2, "page": 5}).status_code == 404


def test_pages_far_past_the_cap_link_both_ways(user_client, user, cap_of_five):
    TaskFactory.create_batch(12, owner=user)
    body = _get(user_client, page_size=2, page=5)  # the capped count has 3 pages
    assert (body["count"], body["count_exact"], len(body["results"])) == (5, False, 2)
    assert "page=6" in body["next"] and "page=4" in body["previous"]


def test_a_page_past_what_a_database_can_skip_is_a_404(user_client, tasks):
    response = user_client.get(URL, {"page": 10**19})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def _walk(client, **params):
    body = _get(client, cursor="", **params)
    seen = _ids(body)
    while body["next"]:
        assert body["previous"] is None
        body = client.get(body["next"]).json()
        seen += _ids(body)
    return seen


@pytest.mark.parametrize("ordering", [None, "due_at", "-due_at", "priority,-created_at", "title"])
def test_a_cursor_walks_the_list_in_its_order(user_client, tasks, ordering):
    extra = {"ordering": ordering} if ordering else {}
    by_pages = _ids(_get(user_client, page_size=100, **extra))
    assert _walk(user_client, page_size=3, **extra) == by_pages
    assert len(by_pages) == 8


def test_a_cursor_page_carries_the_capped_count(user_client, tasks, cap_of_five):
    body = _get(user_client, cursor="", page_size=3)
    assert (body["count"], body["count_exact"], len(body["results"])) == (5, False, 3)


def test_a_cursor_keeps_its_place_while_rows_go(user_client, tasks):
    body = _get(user_client, cursor="", page_size=3, ordering="due_at")
    first = _ids(body)
    Task.objects.filter(pk=first[0]).delete()
    rest = _ids(user_client.get(body["next"]).json())
    everything = _ids(_get(user_client, page_size=100, ordering="due_at"))
    assert rest == everything[2:5]  # the next three after the last one seen


@pytest.mark.parametrize("cursor", ["junk", "a" * 300, "e30:1u2v3w:abc", "\x00"])
def test_a_bad_cursor_is_a_400(user_client, tasks, cursor):
    response = user_client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "cursor" in error["details"]


def test_a_cursor_of_another_ordering_is_a_400(user_client, tasks):
    next_url = _get(user_client, cursor="", page_size=3, ordering="due_at")["next"]
    response = user_client.get(next_url.replace("ordering=due_at", "ordering=title"))
    assert response.status_code == 400


def test_page_and_cursor_together_are_a_400(user_client, tasks):
    assert user_client.get(URL, {"cursor": "", "page": 2}).status_code == 400
