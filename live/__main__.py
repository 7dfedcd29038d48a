"""`python -m live`: the live process (Procfile `live:`), uvicorn serving
taskplatform.asgi on HOST:LIVE_PORT — /ws/ and, for probes, the same /health/ as the web."""

from __future__ import annotations

import gc
import importlib
import os

import uvicorn


def serve(application: str = "taskplatform.asgi:application") -> None:
    """uvicorn as the live process runs it (benchmarks/live_fanout.py serves its baseline
    application the same way)."""
    host = os.environ.get("HOST", "127.0.0.1").strip("[]")
    module, _, name = application.partition(":")
    app = getattr(importlib.import_module(module), name)
    # Django, Channels and the app are loaded: keep those objects out of every collection
    # (a full one over them paused a fan-out to 1,000 connections by ~200 ms)
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=int(os.environ.get("LIVE_PORT", "8001")),
        ws="websockets-sansio",
        http="httptools",
        loop="uvloop",
        lifespan="off",
        # Django's logging (JSON lines) is configured by the app; no access log (it would
        # write one line a connection, and the request middleware logs HTTP)
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # a dead peer is found within a minute; on SIGTERM open sockets are closed with
        # 1012 and clients resume elsewhere
        ws_ping_interval=30,
        ws_ping_timeout=30,
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    serve()
