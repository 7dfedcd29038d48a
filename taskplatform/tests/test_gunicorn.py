"""A real gunicorn started as the Procfile does, with prod settings and a production Host list.

What only the server shows: gunicorn's own refusals (before Django) come in the API's error
envelope, and the image's HEALTHCHECK (http://127.0.0.1:PORT/health/live) passes although
127.0.0.1 is not an allowed host.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from taskplatform.testing import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

KEY = "k" + "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRST"


def web_command() -> list[str]:
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    return shlex.split(line.split(":", 1)[1])


@pytest.fixture(scope="module", params=["1", "2"], ids=["sync", "threads"])
def server(request, tmp_path_factory):
    """gunicorn on a free port: one sync worker, or (WEB_THREADS=2) one threaded worker."""
    var = tmp_path_factory.mktemp("gunicorn-var")
    port = free_port()
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "HOST", "PORT"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.prod",
        "SECRET_KEY": KEY,
        "ALLOWED_HOSTS": "tasks.example.com",
        "VAR_DIR": str(var),
        "PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": request.param,
    }
    command = web_command()
    assert command[0] == "gunicorn"
    log = (var / "gunicorn.log").open("w")
    process = subprocess.Popen(
        # the control socket's default path is shared by every gunicorn of this user
        [sys.executable, "-m", *command, "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
        try:
            return parse(send(port, b"GET /health/live HTTP/1.0\r\n\r\n"))[0] == 200
        except OSError:
            return False

    try:
        assert wait_for(answering, timeout=60), (var / "gunicorn.log").read_text()
        yield port, var / "gunicorn.log"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def envelope(body: bytes) -> dict:
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["details"] == {} and error["request_id"] is None and error["message"]
    return error


def test_an_over_long_request_line_is_a_json_414(server):
    port, log = server
    status, headers, body = parse(
        send(port, b"GET /api/v1/tasks/?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    )
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert envelope(body)["code"] == "uri_too_long"
    assert b"<html>" not in body
    assert "Request Line is too large" in log.read_text()  # gunicorn's warning stays


def test_over_large_headers_are_a_json_431(server):
    port, _ = server
    status, headers, body = parse(
        send(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n")
    )
    assert (status, headers["content-type"]) == (431, "application/json")
    assert envelope(body)["code"] == "headers_too_large"


def test_a_malformed_request_line_is_a_json_400(server):
    port, _ = server
    status, headers, body = parse(send(port, b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert (status, headers["content-type"]) == (400, "application/json")
    assert envelope(body)["code"] == "bad_request"


def test_the_image_healthcheck_passes_with_a_production_host_list(server):
    """Dockerfile's HEALTHCHECK: urlopen('http://127.0.0.1:PORT/health/live') — Host 127.0.0.1."""
    port, _ = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}
    # everything else still refuses a host that isn't allowed...
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/tasks/", timeout=10)
    assert refused.value.code == 400
    # ...and sends plain http to https for the real one
    status, headers, _ = parse(
        send(
            port,
            b"GET /api/v1/tasks/ HTTP/1.1\r\nHost: tasks.example.com\r\nConnection: close\r\n\r\n",
        )
    )
    assert status == 301 and headers["location"] == "https://tasks.example.com/api/v1/tasks/"
