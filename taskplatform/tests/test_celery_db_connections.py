"""A worker process drops a database connection that broke (e.g. PostgreSQL restarted)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from taskplatform.celery import _recycle_broken_db_connections


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_closed_around_each_task(monkeypatch):
    connection.ensure_connection()
    connection.errors_occurred = True  # a query failed with "the connection is closed"
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    _recycle_broken_db_connections(task=SimpleNamespace(request=SimpleNamespace(is_eager=False)))
    assert connection.connection is None  # the next query opens a fresh one


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_kept(monkeypatch):
    # kept for CONN_MAX_AGE (PostgreSQL's default here; SQLite's is 0: closed after each task)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    connection.ensure_connection()
    kept = connection.connection
    _recycle_broken_db_connections(task=SimpleNamespace(request=SimpleNamespace(is_eager=False)))
    assert connection.connection is kept


@pytest.mark.django_db
def test_eager_tasks_leave_their_callers_connection_alone(monkeypatch):
    connection.ensure_connection()
    kept = connection.connection
    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    _recycle_broken_db_connections(task=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert connection.connection is kept
    connection.errors_occurred = False
