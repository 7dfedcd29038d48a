"""The database unreachable: every HTTP answer is a 503 in the envelope with Retry-After.

Issue 11: with PostgreSQL down the API answered 500 (a bug, to the client) instead of 503
(try again). Bad input and bugs that surface as database errors stay what they are.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
)
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from taskplatform.api.errors import RETRY_AFTER_SECONDS


def unavailable(response) -> dict:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["request_id"] == response["X-Request-ID"]
    return error


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@contextmanager
def database_down(django_db_blocker, tmp_path):
    """Point the default connection where no database answers: a closed port for
    PostgreSQL, a file in a folder that doesn't exist for SQLite."""
    with django_db_blocker.unblock():
        connection = connections["default"]
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
        else:
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def bearer_client() -> APIClient:
    token = AccessToken()  # no database needed to sign one
    token["user_id"] = "1"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- A real connection failure ---------------------------------------------------------------


def test_an_authenticated_api_call_is_a_503_when_the_database_is_down(django_db_blocker, tmp_path):
    with database_down(django_db_blocker, tmp_path):
        unavailable(bearer_client().get("/api/v1/tasks/"))


def test_login_is_a_503_when_the_database_is_down(django_db_blocker, tmp_path):
    body = {"email": "someone@example.com", "password": "x" * 12}
    with database_down(django_db_blocker, tmp_path):
        unavailable(APIClient().post("/api/v1/auth/login/", body, format="json"))


def test_the_admin_is_a_503_when_the_database_is_down(django_db_blocker, tmp_path):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a" * 32  # the session is looked up in the database
    with database_down(django_db_blocker, tmp_path):
        unavailable(client.get("/admin/"))


def test_the_api_answers_again_once_the_database_is_back(
    django_db_blocker, tmp_path, transactional_db
):
    with database_down(django_db_blocker, tmp_path):
        unavailable(bearer_client().get("/api/v1/tasks/"))
    assert bearer_client().get("/api/v1/tasks/").status_code == 401  # user 1 doesn't exist


# --- Raised from the code (a service, middleware) ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        OperationalError("canceling statement due to lock timeout"),
    ],
)
def test_a_connection_error_from_a_service_is_a_503(user_client, monkeypatch, caplog, exc):
    from tasks import services

    def down(**kwargs):
        raise exc

    monkeypatch.setattr(services, "task_create", down)
    error = unavailable(user_client.post("/api/v1/tasks/", {"title": "x"}, format="json"))
    assert str(exc) not in error["message"]  # the driver's words stay in the log
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("duplicate key value violates unique constraint"),
        DataError("value too long for type character varying(200)"),
        DatabaseError("Save with update_fields did not affect any rows."),
    ],
)
def test_bugs_and_bad_data_that_reach_the_database_stay_500s(user_client, monkeypatch, exc):
    def broken(**kwargs):
        raise exc

    monkeypatch.setattr("tasks.services.task_create", broken)
    response = user_client.post("/api/v1/tasks/", {"title": "x"}, format="json")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "Retry-After" not in response


def admin_with_a_session_that_raises(client, monkeypatch, error: Exception):
    """The admin, with the session middleware's lookup raising `error`."""
    from django.contrib.sessions.backends.db import SessionStore

    def load(self):
        raise error

    monkeypatch.setattr(SessionStore, "load", load)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a" * 32
    return client


@pytest.mark.django_db
def test_a_database_error_raised_by_middleware_is_a_503(client, monkeypatch):
    admin = admin_with_a_session_that_raises(
        client, monkeypatch, OperationalError("connection refused")
    )
    unavailable(admin.get("/admin/"))


@pytest.mark.django_db
def test_other_server_errors_outside_drf_stay_500s(client, monkeypatch):
    client = admin_with_a_session_that_raises(client, monkeypatch, RuntimeError("kaboom"))
    response = client.get("/admin/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


@pytest.mark.django_db
def test_the_schema_documents_the_503_on_every_operation(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, path_item in schema["paths"].items():
        for operation in path_item.values():
            unavailable = operation["responses"]["503"]
            if not path.startswith("/health/"):  # readiness documents its own 503
                assert "Retry-After" in unavailable["headers"], path
