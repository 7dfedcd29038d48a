"""CORS (django-cors-headers): only origins in CORS_ALLOWED_ORIGINS, only under /api/, and
the rate-limit headers readable by the page."""

from __future__ import annotations

import pytest
from django.core import checks

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


def preflight(client, path="/api/v1/tasks/", origin=APP, method="POST"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, x-request-id",
    )


def test_a_preflight_from_an_allowed_origin(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = preflight(api_client)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, no cookies


def test_an_allowed_origin_reads_the_rate_limit_headers(user_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = user_client.get("/api/v1/tasks/", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "x-request-id",
    }
    assert "origin" in response["Vary"].lower()  # caches keep one answer per origin


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "http://app.example.com", "https://app.example.com.evil"]
)
def test_another_origin_gets_no_cors_headers(user_client, api_client, settings, origin):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = user_client.get("/api/v1/tasks/", HTTP_ORIGIN=origin)
    assert response.status_code == 200  # the browser, not the server, refuses to share it
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in preflight(api_client, origin=origin)


def test_no_origin_is_allowed_by_default(api_client, user_client):
    assert "Access-Control-Allow-Origin" not in preflight(api_client)
    assert "Access-Control-Allow-Origin" not in user_client.get("/api/v1/tasks/", HTTP_ORIGIN=APP)


def test_only_the_api_answers_cross_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    for path in ["/admin/login/", "/health/live"]:
        assert "Access-Control-Allow-Origin" not in preflight(client, path=path)


def test_an_origin_that_is_not_one_fails_the_system_checks(settings):
    settings.CORS_ALLOWED_ORIGINS = ["app.example.com"]  # no scheme: would match nothing
    assert "corsheaders.E013" in {error.id for error in checks.run_checks()}
