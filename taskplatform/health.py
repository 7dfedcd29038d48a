"""Liveness and readiness probes.

/health/live: the process answers. /health/ready: 503 when the database is unreachable
(this instance can't serve); broker, cache, worker and beat problems make the status
"degraded" but still 200: requests are served (work waits in the database outbox while the
broker is away), so an orchestrator must not take every web instance out of rotation, nor
restart it, for a Redis outage or a dead worker.

`ProbeMiddleware` answers both whatever the Host header says (see there).
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)

from . import heartbeat
from .celery import app as celery_app

log = logging.getLogger(__name__)

CRITICAL = ("database",)


def check_database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0] == 1


def check_cache() -> bool:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return ok


def check_broker() -> bool:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    return True


COMPONENTS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "worker": lambda: heartbeat.is_alive("worker"),
    "beat": lambda: heartbeat.is_alive("beat"),
}


def readiness() -> tuple[str, dict[str, str]]:
    components = {}
    for name, check in COMPONENTS.items():
        try:
            components[name] = "ok" if check() else "down"
        except Exception:
            log.warning("readiness: %s is down", name, exc_info=True)
            components[name] = "down"
    if any(components[name] != "ok" for name in CRITICAL):
        return "unavailable", components
    if any(value != "ok" for value in components.values()):
        return "degraded", components
    return "ok", components


_live_schema = inline_serializer("Liveness", {"status": serializers.CharField()})
_ready_schema = inline_serializer(
    "Readiness",
    {
        "status": serializers.ChoiceField(["ok", "degraded", "unavailable"]),
        "components": serializers.DictField(child=serializers.ChoiceField(["ok", "down"])),
    },
)


@never_cache
@extend_schema(responses={200: _live_schema}, tags=["operations"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@extend_schema(responses={200: _ready_schema, 503: _ready_schema}, tags=["operations"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def ready(request):
    status, components = readiness()
    return JsonResponse(
        {"status": status, "components": components},
        status=503 if status == "unavailable" else 200,
    )


PROBES = {"/health/live": live, "/health/ready": ready}


class ProbeMiddleware:
    """Answers GET /health/live and /health/ready first, whatever the Host header.

    Probes come from the image's HEALTHCHECK or an orchestrator as http://127.0.0.1:8000 or
    the pod's IP, a Host that ALLOWED_HOSTS rightly refuses in production: the probe would
    fail with 400 forever. A probe sets no cookie and gets no link back, so its Host means
    nothing; these two exact paths are therefore served before any middleware calls
    request.get_host(). Every other path, these with any other method included, goes down
    the normal stack where ALLOWED_HOSTS (and the HTTPS redirect) still apply.

    Probes are not logged per request nor counted in /metrics: they are the orchestrator's
    heartbeat, not traffic.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBES.get(request.path_info)
        if view is None or request.method != "GET":
            return self.get_response(request)
        response = view(request)
        if not getattr(response, "is_rendered", True):  # a DRF Response, were one returned
            response.render()
        return response
