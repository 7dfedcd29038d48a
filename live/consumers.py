"""/ws/: one signed-in client's live events.

On connect the consumer joins its groups first (the user's and the public one), then, when
the client resumes (`?last_id=N`), sends the events after N from the database, then the
live ones: a live event that was also replayed is dropped by id, so nothing is missed or
sent twice across the handover. Protocol: docs/live.md.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from . import auth, poller
from .hub import hub
from .pushing import PUBLIC_GROUP, group_of, redis_transport
from .selectors import events_after, events_bounds
from .services import SESSION_ENDED

log = logging.getLogger(__name__)

# close codes (4000-4999 are the application's): the client should not retry blindly
NOT_AUTHENTICATED = 4401  # no, a bad or an expired credential: sign in / refresh, then retry
FORBIDDEN_ORIGIN = 4403
TOO_SLOW = 4008  # events waited unsent past OUTBOX_MAX: reconnect and resume
# ids a connection remembers having replayed, to drop the same events arriving live
REPLAYED_FORGET_SECONDS = 30.0
OUTBOX_MAX = 1000
SIGNED_OUT = "Signed out."
# how a session.ended event starts (user text inside the JSON has its quotes escaped, so
# only the event's own type can match)
ENDED = f'"type": "{SESSION_ENDED}"'


class LiveConsumer(AsyncWebsocketConsumer):
    # no channel of its own: the process's hub (live/hub.py) holds the one subscription and
    # writes events to the connections (`push`)
    channel_layer_alias = "live.no-channel-per-connection"
    groups: list[str]

    async def connect(self) -> None:
        self.groups = []
        self.live_groups: list[str] = []
        self.replayed: set[int] = set()
        self.expiry: asyncio.TimerHandle | None = None
        self.outbox: collections.deque[str] = collections.deque()
        self.flusher: asyncio.Task | None = None
        self.closing: asyncio.Future | None = None
        self.open = False
        self.session: str | None = None
        offered = self.scope.get("subprotocols", [])
        subprotocol = auth.SUBPROTOCOL if auth.SUBPROTOCOL in offered else None
        try:
            caller = await database_sync_to_async(auth.caller)(self.scope)
        except auth.NotAuthenticated as refused:
            # accepted, then closed with a code the client can act on (a refused handshake
            # reaches a browser as an anonymous 1006)
            await self.accept(subprotocol)
            await self.close(code=NOT_AUTHENTICATED, reason=str(refused))
            return
        user_id = caller.user.pk
        self.session = caller.session
        # subscribed before reading the database: nothing falls in between (what arrives
        # meanwhile waits in the outbox until the replay is sent)
        self.live_groups = [group_of(user_id), PUBLIC_GROUP]
        await hub().join(self, self.live_groups)
        # without Redis the poller is the feed; with it, the catch-up for failed pushes
        pushed = redis_transport()
        interval = settings.LIVE_CATCHUP_SECONDS if pushed else settings.LIVE_POLL_SECONDS
        await poller.ensure_running(hub(), interval)
        await self.accept(subprotocol)
        if caller.expires_at is not None:
            delay = (caller.expires_at - timezone.now()).total_seconds()
            self.expiry = asyncio.get_running_loop().call_later(
                max(delay, 0), lambda: asyncio.ensure_future(self._expired())
            )
        await self._resume(user_id, _last_id(self.scope))
        self.open = True
        self._flush_soon()

    async def _resume(self, user_id: int, last_id: int | None) -> None:
        oldest, newest = await database_sync_to_async(events_bounds)()
        if last_id is None:
            await self._control("live.hello", newest)
            return
        limit = settings.LIVE_REPLAY_MAX
        missed = await database_sync_to_async(events_after)(
            user_id=user_id, after=last_id, limit=limit + 1
        )
        pruned = last_id + 1 < oldest or last_id > newest
        if pruned or len(missed) > limit:
            # too far behind (or a cursor from another database): reload, from `newest` on
            await self._control("live.resync", newest)
            return
        for event in missed:
            self.replayed.add(event.pk)
            await self.send(text_data=json.dumps(event.as_message()))
        if self.replayed:
            asyncio.get_running_loop().call_later(REPLAYED_FORGET_SECONDS, self.replayed.clear)
        cursor = max([last_id, *(event.pk for event in missed)])
        await self._control("live.hello", cursor)

    async def _control(self, kind: str, last_id: int) -> None:
        await self.send(text_data=json.dumps({"type": kind, "last_id": last_id}))

    async def _expired(self) -> None:
        await self.close(code=NOT_AUTHENTICATED, reason="Token expired.")

    def push(self, event_id: int, text: str) -> None:
        """An event of one of this connection's groups (the hub calls this): sent in order,
        without making the hub wait for this client."""
        if event_id in self.replayed:
            return
        if self.session and ENDED in text and self._ends_mine(text):
            self.closing = asyncio.ensure_future(
                self.close(code=NOT_AUTHENTICATED, reason=SIGNED_OUT)
            )
            return
        if len(self.outbox) >= OUTBOX_MAX:
            self.outbox.clear()
            self.closing = asyncio.ensure_future(
                self.close(code=TOO_SLOW, reason="Too far behind: resume.")
            )
            return
        self.outbox.append(text)
        self._flush_soon()

    def _ends_mine(self, text: str) -> bool:
        """Is this event the end of the session this connection signed in with?"""
        return json.loads(text).get("data", {}).get("session") == self.session

    def _flush_soon(self) -> None:
        if self.open and self.outbox and self.flusher is None:
            self.flusher = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        try:
            while self.outbox:
                await self.send(text_data=self.outbox.popleft())
        except Exception:  # the client went away: disconnect() cleans up
            self.outbox.clear()
        finally:
            self.flusher = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data and '"ping"' in text_data:
            await self.send(text_data='{"type": "live.pong"}')

    async def disconnect(self, code: int) -> None:
        self.open = False
        if self.expiry is not None:
            self.expiry.cancel()
        if self.live_groups:
            await hub().leave(self, self.live_groups)


def _last_id(scope: dict[str, Any]) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("last_id")
    if not values:
        return None
    try:
        value = int(values[-1])
    except ValueError:
        return None
    return value if 0 <= value < 2**63 else None
