"""Fan-out inside a live process: one subscription for the whole process, not one per
connection.

A stock Channels consumer in a group gets each message through its own channel: a queue, a
task woken per message, the message deserialized again, and Channels' dispatch, which also
hops to the database thread (close_old_connections) for every message — for one public
event and 1,000 connections that is 1,000 thread hops, ~0.4 s (benchmarks/live_fanout.py,
whose baseline is that stock path). Here the process holds one channel of the layer, joins
each group that one of its connections needs (channels-redis pub/sub: one SUBSCRIBE per
group per process), and on each message writes the already-serialized text to the
connections of that group directly. Without Redis the database poller hands events to
`deliver` itself; with Redis it still runs, slowly, to catch what a failed push lost.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import TYPE_CHECKING, Any

from channels.layers import BaseChannelLayer, get_channel_layer

if TYPE_CHECKING:
    from .consumers import LiveConsumer

log = logging.getLogger(__name__)

# ids the hub has handed out lately: an event the pub/sub push and the catch-up poller both
# bring (live/poller.py) goes out once
SEEN_MAX = 100_000

_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (one per live process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub(get_channel_layer())
    return _hubs[loop]


class Hub:
    def __init__(self, layer: BaseChannelLayer | None) -> None:
        self.layer = layer
        self.members: dict[str, set[LiveConsumer]] = {}
        self.channel: str | None = None
        self.receiver: asyncio.Task | None = None
        self.lock = asyncio.Lock()
        self.seen: set[int] = set()
        self.seen_order: collections.deque[int] = collections.deque()

    @property
    def uses_layer(self) -> bool:
        # the in-memory layer is this process only: the poller feeds `deliver` directly
        return self.layer is not None and type(self.layer).__name__ != "InMemoryChannelLayer"

    async def join(self, consumer: LiveConsumer, groups: list[str]) -> None:
        async with self.lock:
            for group in groups:
                members = self.members.setdefault(group, set())
                if not members and self.uses_layer:
                    await self._subscribe(group)
                members.add(consumer)

    async def leave(self, consumer: LiveConsumer, groups: list[str]) -> None:
        async with self.lock:
            for group in groups:
                members = self.members.get(group)
                if members is None:
                    continue
                members.discard(consumer)
                if not members:
                    del self.members[group]
                    if self.uses_layer and self.channel is not None:
                        await self.layer.group_discard(group, self.channel)  # type: ignore[union-attr]

    async def _subscribe(self, group: str) -> None:
        assert self.layer is not None
        if self.channel is None:
            self.channel = await self.layer.new_channel()
            self.receiver = asyncio.get_running_loop().create_task(self._receive(), name="live-hub")
        await self.layer.group_add(group, self.channel)

    async def _receive(self) -> None:
        assert self.layer is not None and self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live hub: receiving from the channel layer failed")
                await asyncio.sleep(1)
                continue
            self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> int:
        """Hand an event message (live.pushing.message_of) to its group's connections,
        once: an id handed out already (pushed and also found by the poller) is dropped."""
        event_id = message["id"]
        if event_id in self.seen:
            return 0
        self.seen.add(event_id)
        self.seen_order.append(event_id)
        if len(self.seen_order) > SEEN_MAX:
            self.seen.discard(self.seen_order.popleft())
        members = self.members.get(message["group"], ())
        for consumer in list(members):
            consumer.push(message["id"], message["text"])
        return len(members)
