from __future__ import annotations

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from taskplatform.logging import RequestContextFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    stream = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            stream.append(json.loads(self.format(record)))

    handler = ListHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s"))
    logger = logging.getLogger("taskplatform")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_every_request_logs_a_json_line_with_its_request_id(api_client, json_lines):
    # (health probes are the orchestrator's heartbeat: answered before this, never logged)
    response = api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="trace-me")
    assert response.status_code == 401
    line = next(item for item in json_lines if item["name"] == "taskplatform.request")
    assert line["request_id"] == "trace-me"
    assert line["status"] == 401 and line["path"] == "/api/v1/auth/me/"
    assert line["method"] == "GET"
    assert line["duration_ms"] >= 0


def test_lines_outside_a_request_have_no_request_id(json_lines):
    logging.getLogger("taskplatform.test").info("hello %s", "world")
    assert json_lines[-1]["message"] == "hello world" and json_lines[-1]["request_id"] is None


def test_django_request_records_take_the_id_off_the_request():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), None)

    class FakeRequest:
        request_id = "from-request"

    record.request = FakeRequest()
    RequestContextFilter().filter(record)
    assert record.request_id == "from-request"


def test_dispatcher_ticks_do_not_flood_the_log():
    import logging

    from taskplatform.logging import QuietTicksFilter

    quiet = QuietTicksFilter()

    def record(name, level, msg, *args, **extra):
        rec = logging.LogRecord(name, level, __file__, 1, msg, args, None)
        rec.__dict__.update(extra)
        return rec

    assert not quiet.filter(
        record(
            "celery.beat",
            logging.INFO,
            "Scheduler: Sending due task %s (%s)",
            "notifications: publisher",
            "notifications.publish",
        )
    )
    assert not quiet.filter(
        record(
            "celery.app.trace",
            logging.INFO,
            "Task succeeded",
            data={"name": "notifications.publish"},
        )
    )
    assert not quiet.filter(
        record("celery.worker.strategy", logging.INFO, "Task notifications.publish[1] received")
    )
    assert quiet.filter(record("celery.app.trace", logging.INFO, "Task jobs.run[1] received"))
    assert quiet.filter(
        record("celery.app.trace", logging.ERROR, "Task notifications.publish[1] raised")
    )
    assert quiet.filter(record("notifications", logging.INFO, "notifications.publish mentioned"))


def test_a_disallowed_host_is_logged_not_mailed_to_admins(client, settings):
    from django.core import mail

    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.ALLOWED_HOSTS = ["tasks.example.com"]
    response = client.get("/api/v1/auth/me/", HTTP_HOST="scanner.invalid")
    assert response.status_code == 400
    assert mail.outbox == []


def test_503s_of_an_outage_are_not_mailed_to_admins(client, settings, monkeypatch):
    from django.core import mail
    from django.db import OperationalError

    from accounts.api import views

    settings.ADMINS = [("Ops", "ops@example.com")]

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.LoginView, "post", down)
    response = client.post("/api/v1/auth/login/", {}, content_type="application/json")
    assert response.status_code == 503
    assert mail.outbox == []
