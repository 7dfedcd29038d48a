"""taskplatform.api.filters.FilterSet: django-filter's results and errors, without rebuilding
the filters and the form for every request."""

from __future__ import annotations

from types import SimpleNamespace

import django_filters
import pytest
from django.http import QueryDict

from tasks.api.filters import TaskFilter
from tasks.models import Task

pytestmark = pytest.mark.django_db


class StockTaskFilter(TaskFilter):
    """TaskFilter as django-filter's own FilterSet runs it."""

    __init__ = django_filters.FilterSet.__init__
    get_form_class = django_filters.FilterSet.get_form_class


def _run(cls, query: str, user_pk: int = 7):
    request = SimpleNamespace(user=SimpleNamespace(pk=user_pk))
    filterset = cls(QueryDict(query), Task.objects.all(), request=request)
    valid = filterset.is_valid()
    return valid, (str(filterset.qs.query) if valid else filterset.errors)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=todo,in_progress",
        "status=nope",
        "priority=high,critical",
        "due_from=2026-01-01T00:00:00Z&due_to=2026-02-01T00:00:00%2B01:00",
        "due_from=2026-13-01",
        "owner=me&assignee=3&search=x&tags=a,b",
        "overdue=maybe",
    ],
)
def test_it_filters_and_refuses_as_django_filter_does(query):
    for _ in range(2):  # the second time from what the first built
        assert _run(TaskFilter, query) == _run(StockTaskFilter, query)


def test_each_request_gets_its_own_filters_bound_to_it():
    first = TaskFilter(QueryDict("owner=me"), Task.objects.all(), request=None)
    second = TaskFilter(QueryDict("owner=me"), Task.objects.all(), request=None)
    for name, filter_ in first.filters.items():
        assert filter_ is not second.filters[name]
        assert filter_.parent is first and second.filters[name].parent is second
        assert TaskFilter.base_filters[name].__dict__.get("parent") is None
    assert first.filters["owner"].filter.f is first.filters["owner"]


def test_me_is_each_requests_own_user():
    assert "= 7" in _run(TaskFilter, "owner=me", user_pk=7)[1]
    assert "= 8" in _run(TaskFilter, "owner=me", user_pk=8)[1]


def test_the_form_class_is_built_once():
    assert (
        TaskFilter(QueryDict(), None).get_form_class()
        is TaskFilter(QueryDict(), None).get_form_class()
    )
