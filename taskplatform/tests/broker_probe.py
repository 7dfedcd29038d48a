"""A task that only notes its number, for the embedded broker's test (the worker imports it
with `-I taskplatform.tests.broker_probe`)."""

from __future__ import annotations

import os

from celery import shared_task


@shared_task(name="tests.broker_probe", queue="default", acks_late=True)
def probe(number: int) -> None:
    """Append `number` as a line to BROKER_PROBE_FILE (one write, O_APPEND: lines never mix)."""
    fd = os.open(os.environ["BROKER_PROBE_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{number}\n".encode())
    finally:
        os.close(fd)
