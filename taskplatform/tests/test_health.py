"""Liveness, readiness (real broker and cache, a real unreachable port for 'down')."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from taskplatform import health, heartbeat
from taskplatform.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def alive():
    heartbeat.beat("worker")
    heartbeat.beat("beat")


@pytest.fixture
def broker_down():
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    yield
    celery_app.conf.broker_url = original


def test_live(api_client):
    response = api_client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_when_everything_is_up(api_client, alive):
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": dict.fromkeys(("database", "cache", "broker", "worker", "beat"), "ok"),
    }


def test_ready_is_degraded_but_200_without_worker_and_beat(api_client):
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["worker"] == body["components"]["beat"] == "down"


def test_a_stale_heartbeat_counts_as_down(settings, alive):
    settings.HEARTBEAT_MAX_AGE = -1
    assert not heartbeat.is_alive("worker")
    assert heartbeat.age("worker") is not None


def test_ready_is_degraded_not_503_when_the_broker_is_unreachable(api_client, alive, broker_down):
    # the API keeps taking work (the database is the outbox): no instance leaves rotation
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["components"]["broker"] == "down"


def test_ready_is_503_when_the_database_is_down(api_client, alive, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.COMPONENTS, "database", refuse)
    response = api_client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["database"] == "down"


def test_the_database_check_really_queries():
    assert health.check_database() is True
    assert health.check_cache() is True


def test_a_heartbeat_never_raises_when_the_cache_fails(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(heartbeat.cache, "set", broken)
    heartbeat.beat("worker")
    assert "could not record" in caplog.text


# --- probes answer whatever the Host header (image HEALTHCHECK, orchestrators) ---------------

PRODUCTION_HOSTS = {"ALLOWED_HOSTS": ["tasks.example.com"]}


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "10.0.3.7:8000", "not a host"])
def test_probes_answer_whatever_the_host_with_production_allowed_hosts(client, settings, host):
    settings.ALLOWED_HOSTS = PRODUCTION_HOSTS["ALLOWED_HOSTS"]
    live = client.get("/health/live", HTTP_HOST=host)
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert "no-cache" in live["Cache-Control"]
    ready = client.get("/health/ready", HTTP_HOST=host)
    assert ready.status_code in (200, 503) and ready.json()["components"]["database"] == "ok"


def test_every_other_path_still_needs_an_allowed_host(client, settings):
    settings.ALLOWED_HOSTS = PRODUCTION_HOSTS["ALLOWED_HOSTS"]
    for path in ("/api/v1/tasks/", "/admin/login/", "/health/live/", "/health/", "/metrics"):
        response = client.get(path, HTTP_HOST="127.0.0.1:8000")
        assert response.status_code == 400, path
    # and the probe paths with other methods go down the normal stack too
    assert client.post("/health/live", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/api/v1/tasks/", HTTP_HOST="tasks.example.com").status_code == 401


def test_probes_are_never_redirected_to_https(client, settings):
    settings.ALLOWED_HOSTS = PRODUCTION_HOSTS["ALLOWED_HOSTS"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]  # prod's
    assert client.get("/health/live", HTTP_HOST="127.0.0.1:8000").status_code == 200
    redirected = client.get("/api/v1/tasks/", HTTP_HOST="tasks.example.com")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://tasks.example.com/api/v1/tasks/"


def test_the_probe_middleware_comes_before_anything_that_reads_the_host(settings):
    assert settings.MIDDLEWARE[0] == "taskplatform.health.ProbeMiddleware"
