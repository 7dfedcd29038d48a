"""The embedded default's poller: every new event once, holes (ids that commit late) too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from live.models import LiveEvent
from live.poller import Poller
from live.services import PUBLIC, live_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_the_database_thread() -> Iterator[None]:
    """The poller reads in Channels' database thread: its connection must not outlive the
    test (PostgreSQL would refuse to drop the test database)."""
    yield
    asyncio.run(database_sync_to_async(connections.close_all)())


class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def deliver(self, message: dict) -> int:
        self.sent.append((message["group"], message["id"]))
        return 1


def test_each_event_goes_to_its_group_once_and_a_late_commit_is_still_sent(user):
    layer = RecordingHub()
    poller = Poller(layer, 0.01)  # type: ignore[arg-type]
    first = live_publish(type="a", object_type="x", object_id=1, audience=[user.pk, PUBLIC])
    assert asyncio.run(poller.tick()) == 2
    assert layer.sent == [(f"live.u{user.pk}", first[0].pk), ("live.public", first[1].pk)]
    assert asyncio.run(poller.tick()) == 0  # nothing twice
    # an id handed out but committed after a higher one (PostgreSQL's sequences do that)
    late, later = (
        live_publish(type="b", object_type="x", object_id=n, audience=[user.pk])[0] for n in (2, 3)
    )
    LiveEvent.objects.filter(pk=late.pk).delete()
    assert asyncio.run(poller.tick()) == 1
    assert late.pk in poller.holes
    late.save(force_insert=True)  # "commits" now
    assert asyncio.run(poller.tick()) == 1
    assert layer.sent[-2:] == [(f"live.u{user.pk}", later.pk), (f"live.u{user.pk}", late.pk)]
    assert late.pk not in poller.holes
