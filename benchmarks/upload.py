"""Upload throughput and memory: POST /api/v1/files/ against a bare drain view.

Starts a real gunicorn (one sync worker) on 127.0.0.1 with the benchmark settings, streams
a 256 MiB multipart upload to the upload endpoint and to a view that only drains the body,
alternating, and prints the throughput of both, their ratio (goal >= 0.8) and the web
worker's peak RSS growth during the API uploads (goal < 64 MiB).

    .venv/bin/python benchmarks/upload.py [--mib 256] [--rounds 3]

Uses SQLite and local storage in a temporary folder, or DATABASE_URL if set.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

from taskplatform.testing import free_port

CHUNK = 1024 * 1024
BOUNDARY = "benchmarkboundary7d3f"


def make_file(path: Path, mib: int) -> None:
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(CHUNK))


def post_multipart(port: int, url: str, path: Path, token: str | None) -> tuple[float, int, bytes]:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.putrequest("POST", url)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    if token:
        conn.putheader("Authorization", f"Bearer {token}")
    conn.endheaders()
    conn.send(head)
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, response.status, body


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(pid: int, *args) -> tuple[float, int, bytes, float, float]:
    """Wall time, status, body, and the CPU seconds spent by the server and by this client."""
    server_before, client_before = cpu_seconds(pid), time.process_time()
    elapsed, status, body = post_multipart(*args)
    return (
        elapsed,
        status,
        body,
        cpu_seconds(pid) - server_before,
        time.process_time() - client_before,
    )


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "VAR_DIR": str(work),
        "PYTHONPATH": str(ROOT),
    }
    env["PROMETHEUS_MULTIPROC_DIR"] = str(work / "prometheus")
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    token = subprocess.run(
        [
            python,
            "-c",
            (
                "import django; django.setup()\n"
                "from accounts.models import User\n"
                "from rest_framework_simplejwt.tokens import AccessToken\n"
                "u, _ = User.objects.get_or_create(email='bench@example.com')\n"
                "print(AccessToken.for_user(u))"
            ),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    port = free_port()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "taskplatform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        pid = worker_pid(server.pid)
        payload = work / "payload.bin"
        make_file(payload, args.mib)
        small = work / "warmup.bin"
        make_file(small, 1)
        # warm both paths (imports, first DB connection) before measuring
        assert post_multipart(port, "/bench/drain/", small, None)[1] == 200
        assert post_multipart(port, "/api/v1/files/", small, token)[1] == 201

        baseline_kib = rss_kib(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        drain_times, upload_times = [], []
        cpu = {"drain": [0.0, 0.0], "upload": [0.0, 0.0]}
        for _ in range(args.rounds):
            elapsed, status, _, server_cpu, client_cpu = timed(
                pid, port, "/bench/drain/", payload, None
            )
            assert status == 200, status
            drain_times.append(elapsed)
            cpu["drain"][0] += server_cpu
            cpu["drain"][1] += client_cpu
            elapsed, status, body, server_cpu, client_cpu = timed(
                pid, port, "/api/v1/files/", payload, token
            )
            assert status == 201, body[:500]
            assert json.loads(body)["size"] == args.mib * CHUNK
            upload_times.append(elapsed)
            cpu["upload"][0] += server_cpu
            cpu["upload"][1] += client_cpu
        peak_kib = rss_kib(pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    mib = args.mib
    blob = os.urandom(mib * CHUNK)
    started = time.perf_counter()
    hashlib.sha256(blob).hexdigest()
    sha_rate = mib / (time.perf_counter() - started)
    del blob
    drain_rate = mib / statistics.median(drain_times)
    upload_rate = mib / statistics.median(upload_times)
    ratio = upload_rate / drain_rate
    growth_mib = (peak_kib - baseline_kib) / 1024
    print(f"payload            {mib} MiB x {args.rounds} rounds (median), gunicorn 1 sync worker")
    print(f"bare drain view    {drain_rate:8.1f} MiB/s")
    print(f"POST /api/v1/files {upload_rate:8.1f} MiB/s   (SHA-256 + temp file + storage + row)")
    print(f"ratio              {ratio:8.2f}   goal >= 0.8  {'OK' if ratio >= 0.8 else 'MISSED'}")
    print(
        f"SHA-256 alone      {sha_rate:8.1f} MiB/s   (one core, in memory: a ceiling for any "
        f"endpoint that hashes; upload reaches {upload_rate / sha_rate:.2f} of it)"
    )
    total = mib * args.rounds
    for name, (server_cpu, client_cpu) in cpu.items():
        print(
            f"CPU per MiB, {name:6}  server {1000 * server_cpu / total:5.2f} ms"
            f"   client {1000 * client_cpu / total:5.2f} ms   ({os.cpu_count()} cores)"
        )
    print(
        f"worker peak RSS growth {growth_mib:6.1f} MiB   goal < 64  "
        f"{'OK' if growth_mib < 64 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
