"""Pushing committed events to the live processes.

With REDIS_URL, the channel layer is channels-redis' pub/sub layer: each live process
subscribes once per group its connections are in (`live.u<id>`, `live.public`), and one
PUBLISH reaches every connection of that group in every live process. Publishers are sync
code (a request, a Celery task), so they don't go through the layer's async API (from
sync code that makes an event loop and a Redis connection per call, a few ms): they
PUBLISH the layer's own serialized message on the layer's group channel with the
process's ordinary Redis client, all of a transaction's events in one round trip.
test_pushing checks a consumer of the real layer receives it.

Without Redis (the embedded default) nothing is pushed: the live process reads new rows
from the table (live/poller.py).

A push that fails (Redis down) is logged, never raised: the change is committed, and the
event is in the table for clients that reconnect.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings

from taskplatform.logging import WarnEvery

if TYPE_CHECKING:
    from .models import LiveEvent

log = logging.getLogger(__name__)
_log_redis_down = WarnEvery(log, "live events not pushed, Redis unreachable (%s)")

PUBLIC_GROUP = "live.public"
EVENT_MESSAGE = "live.event"


def group_of(audience: int) -> str:
    return PUBLIC_GROUP if audience == 0 else f"live.u{audience}"


def message_of(event: LiveEvent) -> dict[str, Any]:
    """What the live processes receive: the group, the id (a connection drops one it
    replayed already) and the JSON text every connection is sent as is (serialized once,
    not once per connection)."""
    return {
        "type": EVENT_MESSAGE,
        "group": group_of(event.audience),
        "id": event.pk,
        "text": json.dumps(event.as_message()),
    }


def redis_transport() -> bool:
    return settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")


@cache
def _layer_config() -> tuple[str, str]:
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    return config["hosts"][0], config.get("prefix", "asgi")


@cache
def _client(url: str) -> redis.Redis:
    # (redis-py's pool notices a fork and makes new connections in the child)
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def group_channel(group: str) -> str:
    """The Redis pub/sub channel of a group (channels_redis.pubsub's naming)."""
    return f"{_layer_config()[1]}__group__{group}"


def push(events: list[LiveEvent]) -> None:
    if not events or not redis_transport():
        return
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    try:
        pipe = _client(_layer_config()[0]).pipeline(transaction=False)
        for event in events:
            pipe.publish(
                group_channel(group_of(event.audience)), layer.serialize(message_of(event))
            )
        pipe.execute()
    except redis.RedisError as exc:
        _log_redis_down(exc)
