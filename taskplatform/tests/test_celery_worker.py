"""A real Celery worker on the configured broker (Redis in CI, files otherwise)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.services import audit_record
from taskplatform import heartbeat
from taskplatform.celery import app as celery_app
from taskplatform.context import request_id_var
from taskplatform.testing import wait_for


@celery_app.task(name="tests.record_event")
def record_event(action: str) -> None:
    audit_record(action=action)


@pytest.fixture
def fast_heartbeat(settings):
    settings.HEARTBEAT_INTERVAL = 1


@pytest.fixture
def real_worker(transactional_db, fast_heartbeat, real_worker):
    """The shared real worker (taskplatform.testing.fixtures), started with a 1 s heartbeat."""
    return real_worker


@pytest.mark.e2e
def test_a_task_runs_on_a_real_worker_and_keeps_the_request_id(real_worker):
    token = request_id_var.set("req-from-the-web")
    try:
        record_event.delay("test.worker_ran")
    finally:
        request_id_var.reset(token)
    assert wait_for(lambda: AuditEvent.objects.filter(action="test.worker_ran").exists())
    assert AuditEvent.objects.get(action="test.worker_ran").request_id == "req-from-the-web"


@pytest.mark.e2e
def test_the_worker_writes_its_heartbeat(real_worker):
    assert wait_for(lambda: heartbeat.is_alive("worker"))


def test_celery_is_configured_for_safety():
    conf = celery_app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"default", "notifications", "maintenance"}
    assert conf.beat_scheduler == "jobs.beat:DispatchingScheduler"
