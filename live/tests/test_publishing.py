"""Who is told what: the rows live_publish writes inside each service's transaction."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from live.models import PUBLIC, LiveEvent
from live.origin import OriginCheck
from live.selectors import events_after
from live.services import live_prune, live_publish, live_together
from tasks.models import Task
from tasks.services import task_create, task_delete, task_update

pytestmark = pytest.mark.django_db


def audiences(type_: str) -> list[int]:
    return sorted(LiveEvent.objects.filter(type=type_).values_list("audience", flat=True))


def test_a_private_task_tells_its_owner_and_assignee_only(user, other_user):
    task_create(owner=user, title="Mine", assignee=other_user)
    assert audiences("task.created") == sorted([user.pk, other_user.pk])
    event = LiveEvent.objects.get(type="task.created", audience=user.pk)
    assert event.data["title"] == "Mine" and event.data["assignee_id"] == other_user.pk


def test_a_public_task_is_one_row_for_everyone(user):
    task_create(owner=user, title="Ours", visibility=Task.Visibility.PUBLIC)
    assert audiences("task.created") == [PUBLIC]


def test_turning_private_hides_it_from_everyone_else(user):
    task = task_create(owner=user, title="Ours", visibility=Task.Visibility.PUBLIC)
    task_update(task=task, actor=user, visibility=Task.Visibility.PRIVATE)
    assert audiences("task.hidden") == [PUBLIC]
    assert LiveEvent.objects.get(type="task.hidden").data == {"id": task.pk}
    updated = LiveEvent.objects.get(type="task.updated")
    assert updated.audience == user.pk and updated.data["changed"] == ["visibility"]


def test_an_assignee_taken_off_hears_of_it(user, other_user):
    third = UserFactory.create()
    task = task_create(owner=user, title="T", assignee=other_user)
    task_update(task=task, actor=user, assignee=third)
    assert audiences("task.updated") == sorted([user.pk, other_user.pk, third.pk])


def test_an_unchanged_update_publishes_nothing_and_a_delete_does(user):
    task = task_create(owner=user, title="T")
    task_update(task=task, actor=user, title="T")
    assert not LiveEvent.objects.filter(type="task.updated").exists()
    pk = task.pk
    task_delete(task=task, actor=user)
    assert LiveEvent.objects.get(type="task.deleted").object_id == pk


def test_a_rolled_back_change_leaves_no_event(user):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        task_create(owner=user, title="T")
        raise RuntimeError
    assert not LiveEvent.objects.exists()


def test_events_together_are_one_insert(user, other_user):
    with CaptureQueriesContext(connection) as queries, live_together():
        for n in range(20):
            live_publish(type="x.y", object_type="x", object_id=n, audience=[user.pk, None])
        assert LiveEvent.objects.count() == 0  # written when the block ends
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and LiveEvent.objects.count() == 20


def test_a_user_reads_their_events_and_the_public_ones_after_an_id(user, other_user):
    live_publish(type="a", object_type="x", object_id=1, audience=[user.pk])
    live_publish(type="b", object_type="x", object_id=2, audience=[other_user.pk])
    live_publish(type="c", object_type="x", object_id=3, audience=[PUBLIC])
    first = LiveEvent.objects.order_by("id").first()
    assert [e.type for e in events_after(user_id=user.pk, after=0, limit=10)] == ["a", "c"]
    assert [e.type for e in events_after(user_id=user.pk, after=first.pk, limit=10)] == ["c"]


def test_prune_deletes_what_is_older_than_the_retention(user, settings):
    settings.LIVE_RETENTION_HOURS = 24
    old, new = (
        live_publish(type="x", object_type="x", object_id=n, audience=[user.pk])[0] for n in (1, 2)
    )
    LiveEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert live_prune() == 1
    assert list(LiveEvent.objects.values_list("pk", flat=True)) == [new.pk]


def test_the_event_as_clients_receive_it(user):
    event = live_publish(
        type="task.updated", object_type="task", object_id=7, audience=[user.pk], data={"a": 1}
    )[0]
    message = event.as_message()
    assert message == {
        "id": event.pk,
        "type": "task.updated",
        "object_type": "task",
        "object_id": 7,
        "at": message["at"],
        "data": {"a": 1},
    }
    assert message["at"].endswith("Z")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser: no ambient cookie to abuse
        ("http://tasks.example.com", True),
        ("https://tasks.example.com:8001", True),
        ("https://evil.example.net", False),
    ],
)
def test_browsers_must_come_from_an_allowed_host(settings, origin, allowed):
    settings.ALLOWED_HOSTS = ["tasks.example.com"]
    check = OriginCheck(application=None)
    # no Origin is let through before this (test_a_refused_origin_is_denied_…)
    assert (origin is None or check.allows(origin, "tasks.example.com:8001")) is allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8001", True),  # make run's page, its live port
        ("http://localhost:8000", "localhost:8001", True),
        ("http://[::1]:8000", "[::1]:8001", True),
        ("https://evil.example.net", "127.0.0.1:8001", False),  # issue 25: passed under *
        ("http://localhost:8000", "127.0.0.1:8001", False),
        ("null", "127.0.0.1:8001", False),  # a sandboxed page
    ],
)
def test_under_make_run_s_any_host_a_browser_must_come_from_the_socket_s_own_host(
    settings, origin, host, allowed
):
    settings.ALLOWED_HOSTS = ["*"]
    assert OriginCheck(application=None).allows(origin, host) is allowed


def test_a_refused_origin_is_denied_before_the_app_sees_it(settings):
    settings.ALLOWED_HOSTS = ["*"]
    reached = []

    async def app(scope, receive, send):
        reached.append(scope)

    sent = []

    async def send(message):
        sent.append(message)

    def receive_once():
        messages = iter(
            [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1006}]
        )

        async def receive():
            return next(messages)

        return receive

    check = OriginCheck(application=app)
    headers = [(b"host", b"127.0.0.1:8001"), (b"origin", b"https://evil.example.net")]
    asyncio.run(check({"type": "websocket", "headers": headers}, receive_once(), send))
    assert reached == [] and sent[0]["type"] == "websocket.close"
    no_origin = {"type": "websocket", "headers": headers[:1]}
    asyncio.run(check(no_origin, receive_once(), send))
    assert len(reached) == 1


def test_pages_are_told_where_to_connect_and_may(client, settings, rf):
    from live.context import live_settings

    settings.LIVE_PORT = 8001
    settings.LIVE_WS_URL = ""
    request = rf.get("/app/", HTTP_HOST="tasks.example.com:8000")
    assert live_settings(request) == {"live_ws_url": "ws://tasks.example.com:8001/ws/"}
    settings.LIVE_WS_URL = "wss://tasks.example.com/ws/"
    assert live_settings(request) == {"live_ws_url": "wss://tasks.example.com/ws/"}


def test_the_pages_policy_lets_them_connect_to_the_live_process(client, settings):
    from django.urls import reverse

    settings.LIVE_WS_URL = ""
    settings.LIVE_PORT = 8001
    response = client.get(reverse("web:login"), HTTP_HOST="tasks.example.com")
    policy = response["Content-Security-Policy"]
    connect_src = next(d for d in policy.split(";") if d.strip().startswith("connect-src"))
    assert connect_src.split()[1:] == ["'self'", "ws://tasks.example.com:8001"]
    api = client.get("/api/v1/auth/me/", HTTP_HOST="tasks.example.com")
    assert "8001" not in api["Content-Security-Policy"]  # the strict policy elsewhere
