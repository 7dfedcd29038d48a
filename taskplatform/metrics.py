"""Prometheus metrics: request count and latency by route and status, served at /metrics,
with the platform's own counters (taskplatform/counters.py: runs, emails, reminders, errors).

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does) so the
numbers of every worker process are summed, not only those of the one answering. The Celery
worker counts into files of its own, in WORKER_METRICS_DIR (its PROMETHEUS_MULTIPROC_DIR):
/metrics sums those too, so runs and emails counted in the worker show up here.

/metrics is not public: it answers a scraper that sends `Authorization: Bearer
<METRICS_TOKEN>` or whose address is in METRICS_ALLOWED_NETWORKS (default: loopback only).
"""

from __future__ import annotations

import functools
import glob
import hmac
import ipaddress
import os
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.metrics_core import Metric

from .api.errors import envelope
from .net import client_ip

# the worker's PROMETHEUS_MULTIPROC_DIR, under VAR_DIR (a folder gunicorn doesn't empty when
# the web restarts): docs/operations.md, "Metrics"
WORKER_METRICS_DIR = "prometheus-worker"

REQUESTS = Counter("http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route(request) -> str:
    # the URL pattern, never the raw path: ids in paths would explode the label count
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return "/" + match.route if match.route else match.view_name or "<unnamed>"


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        allowed_networks()  # a mistyped METRICS_ALLOWED_NETWORKS stops the start, loudly

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        labels = (request.method, _route(request), str(response.status_code))
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return response


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _parse_networks(tuple(settings.METRICS_ALLOWED_NETWORKS))


@functools.cache
def _parse_networks(values: tuple[str, ...]):
    try:
        return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from None


def scrape_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), token.encode()
        ):
            return True
    ip = client_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    # ::ffff:127.0.0.1 on a dual-stack socket
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks())


def metrics_view(request):
    if not scrape_allowed(request):
        return JsonResponse(
            envelope("permission_denied", "Metrics are served to allowed scrapers only."),
            status=403,
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        registry.register(FoldersCollector(metrics_folders()))
    else:
        registry = DEFAULT_REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def metrics_folders() -> list[Path]:
    """The web's own folder and, if it exists, the worker's (once, if they are the same)."""
    folders = [Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])]
    worker = Path(settings.VAR_DIR) / WORKER_METRICS_DIR
    if worker.is_dir() and worker.resolve() != folders[0].resolve():
        folders.append(worker)
    return folders


class FoldersCollector:
    """prometheus_client's MultiProcessCollector over several folders: each process's file
    summed into one family per metric (two collectors would print each family twice)."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.folders = list(folders)

    def collect(self) -> Iterable[Metric]:
        files = [path for folder in self.folders for path in glob.glob(str(folder / "*.db"))]
        return multiprocess.MultiProcessCollector.merge(files, accumulate=True)
