from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_metrics_count_requests_by_route_and_status(api_client, user_client):
    user_client.get("/api/v1/auth/me/")
    api_client.get("/api/v1/does-not-exist/")
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'http_requests_total{method="GET",route="/api/v1/auth/me/",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text


def test_ids_in_paths_do_not_become_labels(staff_client):
    staff_client.get("/api/v1/audit-events/123456/")
    text = staff_client.get("/metrics").content.decode()
    assert "123456" not in text
    assert 'route="/api/v1/audit-events/<id:pk>/"' in text


def test_multiprocess_mode_reads_the_shared_folder(api_client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    response = api_client.get("/metrics")
    assert response.status_code == 200
