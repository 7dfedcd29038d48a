from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_schema_and_docs_are_public(api_client, path):
    assert api_client.get(path).status_code == 200


def test_docs_load_their_assets_locally_not_from_a_cdn(api_client):
    html = api_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_the_schema_documents_the_error_envelope_on_every_operation(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "Error" in schema["components"]["schemas"]
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            assert "4XX" in operation["responses"]
