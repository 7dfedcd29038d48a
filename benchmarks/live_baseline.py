"""The baseline of benchmarks/live_fanout.py: the same uvicorn and channels-redis pub/sub
layer with a bare consumer — no sign-in, no database, no replay: `?u=<id>` joins the
user's and the public group and forwards what arrives. What is left of a delivery is the
transport (Redis PUBLISH → the process's subscription → the socket)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path


class BareConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = parse_qs(self.scope["query_string"].decode())["u"][0]
        self.groups = [f"live.u{user}", "live.public"]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/", BareConsumer.as_asgi())])})
