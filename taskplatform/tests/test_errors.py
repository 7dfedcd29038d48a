"""Every error leaves in the envelope, with the request id."""

from __future__ import annotations

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import UnreadablePostError
from django.test import Client, RequestFactory
from rest_framework import exceptions

from taskplatform.api import errors

pytestmark = pytest.mark.django_db


def envelope(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_an_unknown_url_is_a_404_envelope(api_client):
    assert envelope(api_client.get("/api/v1/nope/"), 404)["code"] == "not_found"


def test_the_request_id_is_taken_from_the_header(api_client):
    response = api_client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert response.json()["error"]["request_id"] == "abc-123"


@pytest.mark.parametrize("hostile", ["a" * 500, "has space", "new\nline", "<script>"])
def test_an_unsafe_request_id_is_replaced(api_client, hostile):
    response = api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID=hostile)
    assert response["X-Request-ID"] != hostile and len(response["X-Request-ID"]) == 32


def test_every_response_carries_a_request_id(api_client):
    assert len(api_client.get("/api/v1/auth/me/")["X-Request-ID"]) == 32
    assert len(api_client.get("/api/v1/nowhere/")["X-Request-ID"]) == 32


def test_malformed_json_is_a_400(api_client):
    response = api_client.post(
        "/api/v1/auth/login/", data='{"email": ', content_type="application/json"
    )
    assert envelope(response, 400)["code"] == "malformed_request"


def test_a_wrong_content_type_is_a_415(api_client):
    response = api_client.post("/api/v1/auth/login/", data="x", content_type="text/plain")
    assert envelope(response, 415)["code"] == "unsupported_media_type"


def test_wrong_types_and_nul_bytes_are_400s(api_client):
    for body in ({"email": ["a"], "password": {"x": 1}}, {"email": "a\x00b", "password": "x"}):
        response = api_client.post("/api/v1/auth/login/", body, format="json")
        assert envelope(response, 400)["code"] == "validation_error"


def test_a_json_list_body_is_a_400_with_non_field_errors(api_client):
    response = api_client.post("/api/v1/auth/register/", [1, 2], format="json")
    error = envelope(response, 400)
    assert "non_field_errors" in error["details"]


def test_an_application_error_keeps_its_code_and_status(api_client, settings):
    settings.ROOT_URLCONF = "taskplatform.tests.urls"
    error = envelope(api_client.get("/test/conflict/"), 409)
    assert error["code"] == "conflict" and error["message"].startswith("Only an active")


def test_an_unhandled_error_in_a_drf_view_is_a_500_envelope(api_client, settings, caplog):
    settings.ROOT_URLCONF = "taskplatform.tests.urls"
    error = envelope(api_client.get("/test/boom/"), 500)
    assert error["code"] == "server_error" and "kaboom" not in error["message"]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_an_unhandled_error_outside_drf_is_a_500_envelope(settings):
    settings.ROOT_URLCONF = "taskplatform.tests.urls"
    client = Client(raise_request_exception=False)
    response = client.get("/test/plain-boom/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_django_level_handlers_render_the_envelope():
    request = RequestFactory().get("/")
    assert errors.bad_request(request).status_code == 400
    assert errors.permission_denied(request).status_code == 403
    assert errors.page_not_found(request).status_code == 404
    assert errors.server_error(request).status_code == 500


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (RequestDataTooBig(), 413, "request_too_large"),
        (SuspiciousOperation(), 400, "bad_request"),
        (UnreadablePostError("connection reset"), 400, "bad_request"),
        (exceptions.NotAcceptable(), 406, "not_acceptable"),
        (exceptions.Throttled(wait=2.2), 429, "rate_limited"),
        (exceptions.APIException(), 500, "error"),
    ],
)
def test_the_handler_maps_exceptions(exc, status, code):
    response = errors.exception_handler(exc, {})
    assert response.status_code == status and response.data["error"]["code"] == code
    if status == 429:
        assert response["Retry-After"] == "3"


def test_a_permission_denied_from_django_is_a_403():
    from django.core.exceptions import PermissionDenied

    response = errors.exception_handler(PermissionDenied(), {})
    assert response.status_code == 403 and response.data["error"]["code"] == "permission_denied"


def test_a_dict_detail_with_a_detail_key_gives_its_message():
    exc = exceptions.APIException({"detail": "custom words"})
    assert errors.exception_handler(exc, {}).data["error"]["message"] == "custom words"


def test_an_oversized_json_body_is_a_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"email": "' + "x" * 5000 + '", "password": "p"}'
    response = api_client.post("/api/v1/auth/login/", data=body, content_type="application/json")
    assert envelope(response, 413)["code"] == "request_too_large"
