"""On Redis a throttle's limits are counted in one round trip, with get_usage's keys and answers."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.core.cache import caches
from django.test import RequestFactory
from django_ratelimit.core import get_usage
from django_redis.cache import RedisCache
from redis.client import Redis

from taskplatform.api.rate_counts import usages_count

pytestmark = pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="Redis's path (REDIS_URL)"
)


@pytest.fixture
def request_():
    return RequestFactory().get("/")


def test_every_limit_is_counted_in_one_round_trip(request_):
    # keys of this test alone, and the script already known to Redis (a server that has not
    # seen it yet takes one more round trip, once, to load it)
    tag = uuid.uuid4().hex
    usages_count(request_, [(f"warm-{tag}", "x", "5/m")])
    checks = [(f"a-{tag}", "x", "5/m"), (f"b-{tag}", "x", "5/h"), (f"c-{tag}", "y", "5/m")]
    with mock.patch.object(
        Redis, "execute_command", autospec=True, side_effect=Redis.execute_command
    ) as sent:
        usages = usages_count(request_, checks)
    assert sent.call_count == 1
    assert [u["count"] for u in usages] == [1, 1, 1]
    assert [u["limit"] for u in usages] == [5, 5, 5]
    assert all(0 < u["time_left"] <= 3600 for u in usages)


def test_the_counters_are_django_ratelimits(request_):
    usages_count(request_, [("g", "k", "5/m")])
    usage = get_usage(request_, group="g", key=lambda g, r: "k", rate="5/m", increment=True)
    assert usage is not None and usage["count"] == 2


def test_counting_stops_at_the_first_exhausted_limit(request_):
    checks = [("first", "x", "1/m"), ("second", "x", "5/m")]
    assert [u["should_limit"] for u in usages_count(request_, checks)] == [False, False]
    assert [u["should_limit"] for u in usages_count(request_, checks)] == [True]
    second = get_usage(request_, group="second", key=lambda g, r: "x", rate="5/m")
    assert second is not None and second["count"] == 1  # the refused call was not counted there
