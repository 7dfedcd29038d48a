"""The embedded default's broker (kombu's SQLAlchemy transport on SQLite) with real processes:
several publishers, the real worker, a restart in the middle — every message once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from taskplatform.testing import wait_for

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 5000
PUBLISH = (
    "import sys, django; django.setup()\n"
    "from taskplatform.tests.broker_probe import probe\n"
    "for n in range(int(sys.argv[1]), int(sys.argv[2])): probe.delay(n)\n"
)


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """make run's environment in a scratch VAR_DIR: no PostgreSQL, Redis or broker URL."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",
        VAR_DIR=str(tmp_path),
        BROKER_PROBE_FILE=str(tmp_path / "delivered"),
        LOG_LEVEL="WARNING",
    )
    return env


def publishers(env: dict[str, str], start: int, stop: int, count: int) -> list[subprocess.Popen]:
    step = (stop - start) // count
    return [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, str(first), str(first + step)], cwd=ROOT, env=env
        )
        for first in range(start, stop, step)
    ]


def worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "taskplatform", "worker", "-Q", "default"]
    command += ["-I", "taskplatform.tests.broker_probe", "-c", "2", "-l", "WARNING"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def delivered(env: dict[str, str]) -> list[int]:
    path = Path(env["BROKER_PROBE_FILE"])
    return [int(line) for line in path.read_text().split()] if path.exists() else []


@pytest.mark.e2e
def test_several_publishers_and_the_real_worker_move_5000_messages_once_each(embedded, tmp_path):
    log = tmp_path / "worker.log"
    # half is published with no worker running: it waits in var/broker.sqlite3
    for publisher in publishers(embedded, 0, TOTAL // 2, 2):
        assert publisher.wait(timeout=120) == 0
    first, second = worker(embedded, log), None
    late = publishers(embedded, TOTAL // 2, TOTAL, 2)  # the rest while the worker consumes
    try:
        assert wait_for(lambda: len(delivered(embedded)) >= 1000, timeout=120), log.read_text()
        # a restart in the middle: a warm shutdown gives back what the worker had taken ahead
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0, log.read_text()
        second = worker(embedded, log)
        for publisher in late:
            assert publisher.wait(timeout=120) == 0
        assert wait_for(lambda: len(delivered(embedded)) >= TOTAL, timeout=180, interval=0.5), (
            f"{len(delivered(embedded))} of {TOTAL} delivered: {log.read_text()[-3000:]}"
        )
        assert second.poll() is None, "the worker died"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    numbers = delivered(embedded)
    assert len(numbers) == TOTAL, "a message was delivered twice"
    assert sorted(numbers) == list(range(TOTAL)), "a message was lost"
    with sqlite3.connect(tmp_path / "broker.sqlite3") as broker:
        (waiting,) = broker.execute("SELECT count(*) FROM kombu_message WHERE visible").fetchone()
    assert waiting == 0
    assert "CRITICAL" not in log.read_text() and "Unrecoverable" not in log.read_text()
