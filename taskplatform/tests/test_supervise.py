"""`make run`'s process manager: the Procfile under supervisord, a dead process started again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from taskplatform.supervise import ROOT, config, procfile
from taskplatform.testing import free_port, wait_for


def test_every_procfile_line_is_a_program_that_is_started_again_when_it_dies(tmp_path):
    processes = procfile(ROOT / "Procfile")
    assert list(processes) == ["web", "worker", "beat", "live"]
    text = config(processes, var=tmp_path / "50%", port=9000)
    assert "nodaemon=true" in text and f"logfile={tmp_path}/50%%/supervisord.log" in text
    for name, command in processes.items():
        section = text.split(f"[program:{name}]\n", 1)[1].split("\n\n", 1)[0]
        assert f"command={command}\n" in section
        assert "autorestart=true" in section and "stdout_logfile=/dev/stdout" in section
    assert 'environment=PORT="9000"' in text.split("[program:web]", 1)[1].split("[program:")[0]


def test_comments_and_blank_lines_of_a_procfile_are_not_processes(tmp_path):
    (tmp_path / "Procfile").write_text("# the web\n\nweb: gunicorn app\nworker:  celery worker \n")
    assert procfile(tmp_path / "Procfile") == {"web": "gunicorn app", "worker": "celery worker"}


def spawned(log: Path) -> dict[str, int]:
    """The latest pid supervisord started for each program."""
    text = log.read_text() if log.exists() else ""
    return {name: int(pid) for name, pid in re.findall(r"spawned: '(\w+)' with pid (\d+)", text)}


def answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200  # noqa: S310
    except OSError:
        return False


@pytest.mark.e2e
def test_make_run_starts_a_killed_process_again_and_ctrl_c_stops_everything(tmp_path):
    port, live_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",
        VAR_DIR=str(tmp_path),
        LIVE_PORT=str(live_port),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    console = (tmp_path / "console.log").open("w")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "taskplatform.supervise", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=console,
        stderr=subprocess.STDOUT,
    )
    log, web = tmp_path / "supervisord.log", f"http://127.0.0.1:{port}/health/live"
    try:
        assert wait_for(lambda: answers(web), timeout=60), (tmp_path / "console.log").read_text()
        assert wait_for(lambda: len(spawned(log)) == 4, timeout=30)
        first = spawned(log)
        for name in ("worker", "live", "beat"):
            os.kill(first[name], signal.SIGKILL)
            killed_at = time.monotonic()
            assert wait_for(lambda n=name: spawned(log)[n] != first[n], timeout=5), log.read_text()
            assert time.monotonic() - killed_at < 5
            assert answers(web)  # the others keep serving
        text = log.read_text()
        for name in ("worker", "live", "beat"):
            assert f"exited: {name} (terminated by SIGKILL; not expected)" in text
        assert wait_for(lambda: answers(f"http://127.0.0.1:{live_port}/health/live"), timeout=30)
        assert "exited: web" not in text
    finally:
        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        assert supervisor.wait(timeout=60) == 0
    assert all(_gone(pid) for pid in spawned(log).values())
    assert not answers(web)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
