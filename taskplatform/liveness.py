"""Proof that the execution holding a piece of work is still alive: a lock its process holds.

A Celery message delivered again (same id) while its work is still marked in progress means
one of two things. Either the worker that had it died (kill -9, out of memory: acks_late +
reject_on_worker_lost requeue the message), and the new delivery should take the work over
at once; or the broker handed out the message of a task that is still running (a dropped
broker connection makes kombu restore every unacked message; a countdown longer than the
visibility timeout), and taking over would do the work twice. The lock tells them apart:
an execution holds a lock named after its message while it runs, and the operating system
frees it when the process dies.

PostgreSQL: a session-level advisory lock (freed when the dead process's connection drops).
Anything else — the embedded SQLite setup, one machine — a file lock under var/locks/ (freed
by the kernel when the process exits).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection

_TRY = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
_RELEASE = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


@contextlib.contextmanager
def holding(key: str) -> Iterator[bool]:
    """Hold the lock named `key` while inside. Yields False (and holds nothing) when another
    live execution holds it."""
    if connection.vendor == "postgresql":
        with _advisory_lock(key) as held:
            yield held
    else:
        with _file_lock(key) as held:
            yield held


@contextlib.contextmanager
def _advisory_lock(key: str) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute(_TRY, [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            # a connection that broke meanwhile took the lock with it
            with contextlib.suppress(DatabaseError, InterfaceError), connection.cursor() as c:
                c.execute(_RELEASE, [key])


@contextlib.contextmanager
def _file_lock(key: str) -> Iterator[bool]:
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha256(key.encode()).hexdigest()[:32]
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
