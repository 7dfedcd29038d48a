"""Upload throughput and memory: POST /api/v1/files/ against a view that drains and hashes.

Starts a real gunicorn with the production gunicorn.conf.py (one sync worker) on 127.0.0.1
and the benchmark settings, and streams the same 256 MiB multipart upload, alternating, to
three URLs: a view that only reads the body, one that reads it and computes its SHA-256 (the
least work any upload that checks a digest can do: the baseline), and the upload endpoint.
Prints each one's throughput (median of the rounds), the upload's ratio to the baseline
(goal >= 0.8: the median of each round's ratio) with its range, CPU per MiB, and the web
worker's peak RSS growth during the API uploads (goal < 64 MiB).

    .venv/bin/python benchmarks/upload.py [--mib 256] [--rounds 7]

Uses SQLite and local storage in a temporary folder, or DATABASE_URL if set.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
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
# name: (URL, expected status); measured in this order, every round
URLS = {
    "drain": ("/bench/drain/", 200),
    "drain+sha256": ("/bench/drain-sha256/", 200),
    "upload": ("/api/v1/files/", 201),
}


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


def delete_file(port: int, file_id: str, token: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "DELETE", f"/api/v1/files/{file_id}/", headers={"Authorization": f"Bearer {token}"}
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 204, response.status


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
    parser.add_argument("--rounds", type=int, default=7)
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
            "--config",
            "gunicorn.conf.py",
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
        # warm every path (imports, first DB connection, and the page cache: a VM's memory
        # never touched since boot costs ~1 ms/MiB more to write into) before measuring
        for url, status in URLS.values():
            _, got, body = post_multipart(port, url, payload, token)
            assert got == status, body[:500]
        delete_file(port, json.loads(body)["id"], token)

        baseline_kib = rss_kib(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        times: dict[str, list[float]] = {name: [] for name in URLS}
        cpu = {name: [0.0, 0.0] for name in URLS}
        for _ in range(args.rounds):
            for name, (url, expected) in URLS.items():
                elapsed, status, body, server_cpu, client_cpu = timed(
                    pid, port, url, payload, token
                )
                assert status == expected, body[:500]
                times[name].append(elapsed)
                cpu[name][0] += server_cpu
                cpu[name][1] += client_cpu
            stored = json.loads(body)
            assert stored["size"] == args.mib * CHUNK
            # the blob goes before the next round: storage doesn't grow, and every round
            # writes into page cache the last one freed, like a server that has run a while
            delete_file(port, stored["id"], token)
        peak_kib = rss_kib(pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    report(args, times, cpu, (peak_kib - baseline_kib) / 1024)


def report(
    args: argparse.Namespace,
    times: dict[str, list[float]],
    cpu: dict[str, list[float]],
    growth_mib: float,
) -> None:
    mib = args.mib
    rate = {name: mib / statistics.median(elapsed) for name, elapsed in times.items()}
    # each round's upload against the baseline run just before it: neighbours on a shared
    # machine see the same load, so their ratio is steadier than the ratio of medians
    rounds = [base / up for base, up in zip(times["drain+sha256"], times["upload"], strict=True)]
    ratio = statistics.median(rounds)
    print(f"payload            {mib} MiB x {args.rounds} rounds (median), gunicorn 1 sync worker")
    print(f"drain only         {rate['drain']:8.1f} MiB/s   (read the body, nothing else)")
    print(f"drain + SHA-256    {rate['drain+sha256']:8.1f} MiB/s   (baseline)")
    print(
        f"POST /api/v1/files {rate['upload']:8.1f} MiB/s   "
        "(parse, SHA-256, sniff, temp file, storage, row, audit)"
    )
    print(
        f"ratio              {ratio:8.2f}   goal >= 0.8  {'OK' if ratio >= 0.8 else 'MISSED'}"
        f"   (median of the rounds' ratios; range {min(rounds):.2f}-{max(rounds):.2f})"
    )
    total = mib * args.rounds
    for name, (server_cpu, client_cpu) in cpu.items():
        print(
            f"CPU per MiB, {name:12}  server {1000 * server_cpu / total:5.2f} ms"
            f"   client {1000 * client_cpu / total:5.2f} ms   ({os.cpu_count()} cores)"
        )
    print(
        f"worker peak RSS growth {growth_mib:6.1f} MiB   goal < 64  "
        f"{'OK' if growth_mib < 64 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
