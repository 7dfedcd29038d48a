"""/metrics (issue 11: it was public): served to a METRICS_TOKEN bearer or to a client in
METRICS_ALLOWED_NETWORKS (loopback by default), 403 in the envelope for everyone else."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def metrics(client, **extra):
    return client.get("/metrics", **extra)


def test_metrics_are_served_to_loopback_by_default(api_client):
    assert metrics(api_client).status_code == 200  # the test client is 127.0.0.1


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "2001:db8::1", "not-an-ip"])
def test_metrics_are_refused_to_other_addresses(api_client, address):
    response = metrics(api_client, REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert b"http_requests_total" not in response.content


def test_ipv6_loopback_and_ipv4_mapped_loopback_are_loopback(api_client):
    assert metrics(api_client, REMOTE_ADDR="::1").status_code == 200
    assert metrics(api_client, REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_allowed_networks_are_configurable(api_client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert metrics(api_client, REMOTE_ADDR="10.200.0.1").status_code == 200
    assert metrics(api_client, REMOTE_ADDR="fd12::1").status_code == 200
    assert metrics(api_client, REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_client_address_is_read_behind_the_configured_proxies(api_client, settings):
    settings.NUM_PROXIES = 1
    # the proxy (127.0.0.1) appends the real client; a forged first hop changes nothing
    forged = "127.0.0.1, 203.0.113.9"
    assert metrics(api_client, HTTP_X_FORWARDED_FOR=forged).status_code == 403
    assert metrics(api_client, HTTP_X_FORWARDED_FOR="10.0.0.1, 127.0.0.1").status_code == 200


def test_a_bearer_token_opens_metrics_from_anywhere(api_client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.METRICS_ALLOWED_NETWORKS = []
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert metrics(api_client, **outside).status_code == 403
    wrong = metrics(api_client, HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 403
    basic = metrics(api_client, HTTP_AUTHORIZATION="Basic s3cret-scrape-token", **outside)
    assert basic.status_code == 403
    right = metrics(api_client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert right.status_code == 200 and b"http_requests_total" in right.content


def test_without_a_token_set_no_bearer_value_opens_metrics(api_client, settings):
    settings.METRICS_TOKEN = ""
    response = metrics(api_client, HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403


def test_a_mistyped_network_stops_the_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    from taskplatform.metrics import MetricsMiddleware

    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_NETWORKS"):
        MetricsMiddleware(lambda request: None)
