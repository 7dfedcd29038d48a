"""The Celery broker of the embedded default: kombu's SQLAlchemy transport on an SQLite file.

Used when neither REDIS_URL nor CELERY_BROKER_URL is set (`make run`): CELERY_BROKER_URL is
then `sqlite:///var/broker.sqlite3`, a scheme taskplatform/celery.py points here. A
message is one row, written and taken inside a transaction (kombu takes it under `BEGIN
IMMEDIATE`), so a consumer never reads half a message and the queues survive a restart of
every process. Two settings kombu can't be given as transport options — it hands every
option to SQLAlchemy's create_engine — are made here:

- how soon the worker looks again after finding nothing it may take (the queues empty, or
  every pool process busy): kombu's 1 s default capped the worker at about one message a
  second; CELERY_BROKER_POLLING_INTERVAL (0.05 s) costs a few indexed SELECTs a second idle;
- each connection in WAL mode with synchronous=NORMAL and a busy timeout, like the
  database's own connections: publishers write while the worker reads, and a commit
  doesn't wait for the disk.

A message the worker has taken stays in the table, marked invisible (kombu never reads it
again: an unacknowledged one is put back as a new row); `operations.prune` deletes them.
"""

from __future__ import annotations

import sqlite3

from django.conf import settings
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import event


def _configure(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=30000")


class Channel(kombu_sqlalchemy.Channel):
    def _engine_from_config(self):
        engine = super()._engine_from_config()
        event.listen(engine, "connect", _configure)
        return engine


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel

    polling_interval = settings.CELERY_BROKER_POLLING_INTERVAL


def delivered_delete() -> int:
    """Delete the messages the worker has taken; returns how many."""
    with sqlite3.connect(settings.BROKER_DB, timeout=30) as connection:
        try:
            return connection.execute("DELETE FROM kombu_message WHERE visible = 0").rowcount
        except sqlite3.OperationalError as exc:  # no message was ever sent: no table yet
            if "no such table" in str(exc):
                return 0
            raise
