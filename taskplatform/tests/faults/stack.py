"""The production shape as real processes, with parts a test can break.

A private PostgreSQL cluster (initdb into a temporary folder, its own port) and a private
redis-server (append-only, as in docker-compose.yml), so they can be stopped and restarted;
an SMTP server in this process that can go down and come back; and the Procfile's web,
worker, beat and live processes on production settings. Nothing here is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes
from pathlib import Path

import psycopg
import requests
from aiosmtpd.controller import Controller

from taskplatform.testing import PrivateRedis, free_port, wait_for

ROOT = Path(__file__).resolve().parents[3]
PG_BIN = Path(
    os.environ.get("PG_BIN")
    or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), "/usr/bin")
)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PrivatePostgres:
    """A PostgreSQL cluster of our own, so a test can stop and restart the server."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "pg"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/taskplatform"

    def init(self) -> None:
        self.dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.dir.parent, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.dir / "data"),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE taskplatform")

    def dsn(self, database: str = "taskplatform") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.dir / "data"),
                    "-o",
                    options,
                    "-l",
                    str(self.dir / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    *args,
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    @contextlib.contextmanager
    def lock(self, table: str):
        """Hold an EXCLUSIVE lock on `table` (reads go on, writes wait) while inside."""
        with psycopg.connect(self.dsn()) as conn:
            conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield
            conn.rollback()

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, sql: str, *params):
        return self.query(sql, *params)[0][0]


class _Recorder:
    def __init__(self) -> None:
        self.messages: list = []
        self.arrived: list[float] = []  # time.monotonic() of each message's arrival
        self.delay = 0.0  # seconds per message: a slow server keeps a batch in flight
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived.append(time.monotonic())
        return "250 Message accepted"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that a test can take down and bring back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = _Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def last_arrival(self, markers: list[str]) -> float:
        """When the last message naming one of `markers` arrived (time.monotonic())."""
        with self.recorder.lock:
            pairs = list(zip(self.recorder.arrived, self.recorder.messages, strict=True))
        return max(t for t, m in pairs if any(_matches(m, marker) for marker in markers))

    def count(self, marker: str) -> int:
        """Messages whose subject or text contains `marker`; "welcome:<address>" counts the
        welcome emails sent to that address."""
        with self.recorder.lock:
            messages = list(self.recorder.messages)
        return sum(_matches(m, marker) for m in messages)


def _matches(message, marker: str) -> bool:
    if marker.startswith("welcome:"):
        to = marker.removeprefix("welcome:")
        return to in str(message.get("To", "")) and "welcome" in str(message["Subject"]).lower()
    return marker in _text(message)


def _text(message) -> str:
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(parts)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (a Celery worker's pool processes)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Stack:
    """PostgreSQL + Redis + SMTP + the Procfile's web, worker, beat and live, on prod
    settings."""

    PROCESSES = ("web", "worker", "beat", "live")

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="taskplatform-faults-"))
        self.postgres = PrivatePostgres(self.root)
        self.redis = PrivateRedis(persist_dir=self.root / "redis")
        self.smtp = SmtpSink()
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.live_port = free_port()
        self.live_url = f"ws://127.0.0.1:{self.live_port}/ws/"
        self.processes: dict[str, subprocess.Popen] = {}
        self.extra: list[subprocess.Popen] = []  # a second beat, say
        self.restarted_on_purpose: set[str] = set()
        self.env = self._env()

    def _env(self) -> dict[str, str]:
        var = self.root / "var"
        return {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "taskplatform.settings.prod",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": "",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp.port),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "HOST": "127.0.0.1",
            "PORT": str(self.web_port),
            "LIVE_PORT": str(self.live_port),
            "VAR_DIR": str(var),
            "STATIC_ROOT": str(self.root / "static"),
            "PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus"),
            "LOG_FORMAT": "text",
            "RATELIMIT_API": "100000/m",
            "RATELIMIT_AUTH": "100000/m",
            "RATELIMIT_LOGIN_IP": "100000/m",
            "RATELIMIT_LOGIN_EMAIL": "100000/m",
            # one test user is sent 40 reminders within a minute (the mid-batch kill): the
            # hourly limit per user would hold most of them back
            "NOTIFICATIONS_PER_USER_PER_HOUR": "1000",
            "HEARTBEAT_INTERVAL": "2",
            # shorter clocks than production so a fault plays out in seconds, not minutes
            "JOBS_RETRY_BASE_SECONDS": "2",
            "JOBS_REQUEUE_AFTER_SECONDS": "20",
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "2",
            "NOTIFICATIONS_RETRY_MAX_SECONDS": "10",
            "NOTIFICATIONS_REQUEUE_AFTER_SECONDS": "5",
            "CELERY_TASK_TIME_LIMIT": "30",
            "CELERY_TASK_SOFT_TIME_LIMIT": "25",
            "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "40",
            "CONN_MAX_AGE": "60",
        }

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.postgres.init()
        self.redis.start()
        self.smtp.start()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        # the platform's sweepers every 5 s instead of every minute (an operator's admin edit)
        self.postgres.query(
            "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (5, 'seconds')"
        )
        self.postgres.query(
            "UPDATE django_celery_beat_periodictask SET interval_id = (SELECT id FROM "
            "django_celery_beat_intervalschedule WHERE every = 5 AND period = 'seconds'), "
            "crontab_id = NULL WHERE name IN ('jobs: sweeper', "
            "'notifications: re-enqueue stuck notifications')"
        )
        for name in self.PROCESSES:
            self.start_process(name)
        self.wait_ready()

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_process(self, name: str) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        process = subprocess.Popen(
            shlex.split(procfile()[name]),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_extra_beat(self) -> subprocess.Popen:
        log = open(self.root / "beat-2.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            shlex.split(procfile()["beat"]),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.extra.append(process)
        return process

    def wait_ready(self, timeout: float = 60) -> None:
        last = []

        def ready() -> bool:
            try:
                response = requests.get(f"{self.base}/health/ready", timeout=2)
            except requests.RequestException as exc:
                last.append(str(exc))
                return False
            last.append(f"{response.status_code} {response.text[:300]}")
            if response.status_code != 200 or response.json().get("status") != "ok":
                return False
            try:  # and the live process answers
                live = requests.get(f"http://127.0.0.1:{self.live_port}/health/live", timeout=2)
            except requests.RequestException as exc:
                last.append(f"live: {exc}")
                return False
            return live.status_code == 200

        assert wait_for(ready, timeout=timeout, interval=0.5), f"{last[-1:]}\n{self.logs(20)}"

    def postgres_lock(self, table: str):
        return self.postgres.lock(table)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def worker_children(self) -> list[int]:
        return children(self.processes["worker"].pid)

    def stop(self) -> None:
        for process in [*self.processes.values(), *self.extra]:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 15
        for process in [*self.processes.values(), *self.extra]:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.smtp.stop()
        self.redis.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.postgres.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self, tail: int = 60) -> str:
        out = []
        for log in sorted(self.root.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-tail:]
            out.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(out)
