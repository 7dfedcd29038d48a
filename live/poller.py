"""The embedded default's feed (no Redis): one task per live process reads the events
committed since its last look, every LIVE_POLL_SECONDS, and hands each to its group in the
process's hub (live/hub.py). One query a tick for the whole process, not one per
connection.

With Redis the same task runs every LIVE_CATCHUP_SECONDS as a safety net: an event whose
push failed (Redis down for a moment, a publisher killed between commit and publish)
reaches its connected clients that late rather than never; the hub drops the ones the push
brought already.

Ids are handed out before commit, so on PostgreSQL an event can commit after one with a
higher id: an id skipped over is looked for again for HOLE_SECONDS before it is taken for a
rolled-back insert. (SQLite writes one transaction at a time: no such holes there.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async

from .pushing import message_of
from .selectors import events_bounds, events_new

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger(__name__)

BATCH = 1000
HOLE_SECONDS = 10.0
HOLES_MAX = 1000

_pollers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_starting: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


async def ensure_running(hub: Hub, interval: float) -> None:
    """Start this event loop's poller, once. It has read where the table ends when this
    returns, so an event committed after that is its to send: a connection reading the
    table after this (its replay) misses nothing in between."""
    loop = asyncio.get_running_loop()
    async with _starting.setdefault(loop, asyncio.Lock()):
        task = _pollers.get(loop)
        if task is None or task.done():
            poller = Poller(hub, interval)
            poller.after = (await database_sync_to_async(events_bounds)())[1]
            _pollers[loop] = loop.create_task(poller.run(), name="live-poller")


class Poller:
    def __init__(self, hub: Hub, interval: float) -> None:
        self.hub, self.interval = hub, interval
        self.after = 0
        self.holes: dict[int, float] = {}  # id skipped -> when to stop looking for it

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.exception("live poller: reading events failed")
                await asyncio.sleep(1)

    async def tick(self) -> int:
        events = await database_sync_to_async(events_new)(
            after=self.after, also=list(self.holes), limit=BATCH
        )
        now = time.monotonic()
        sent = 0
        for event in events:
            if event.pk in self.holes:
                del self.holes[event.pk]
            elif event.pk > self.after:
                for missing in range(max(self.after + 1, event.pk - HOLES_MAX), event.pk):
                    self.holes[missing] = now + HOLE_SECONDS
                self.after = event.pk
            else:
                continue
            self.hub.deliver(message_of(event))
            sent += 1
        for pk, until in list(self.holes.items()):
            if until < now:
                del self.holes[pk]
        if len(self.holes) > HOLES_MAX:
            for pk in sorted(self.holes)[: len(self.holes) - HOLES_MAX]:
                del self.holes[pk]
        return sent
