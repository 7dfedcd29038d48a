"""Live updates with 1,000 connected clients: commit → client latency and memory a connection.

The live process as the Procfile runs it (`python -m live`: uvicorn + Channels, channels-redis
pub/sub) on PostgreSQL + Redis, and `--clients` WebSocket clients (each its own user, signed
in with a bearer token) spread over `--client-procs` processes of asyncio clients. Then:

  private  `--private` task updates by `task_update` (the service), each on the task of a
           random connected user, at `--rate` a second: one client hears each. Latency =
           the client's receive time - the moment the transaction committed (an on_commit
           callback registered before the service's own, so it runs first).
  public   `--public` updates of one public task, one a second: every client hears each;
           latency per delivery, and of the last client to hear it.

Baseline, in the same run and the same way: `benchmarks/live_baseline.py` — the same
uvicorn, the same channels-redis pub/sub layer, a consumer with no sign-in, no database and
no replay — fed by a raw PUBLISH of the same message (timestamped just before it). What is
left there is the transport; the ratio (ours / baseline, p99) is what the platform adds: the
event row written in the service's transaction, the commit, the push after it.

Memory: the server's RSS (VmRSS) with every client connected minus its RSS after one
connection came and went (Django and the layer loaded), / clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_live \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python benchmarks/live_fanout.py [--clients 1000] [--private 2000] [--rate 100]

PostgreSQL only (it deletes the users, tasks and live events of the database it is given).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from taskplatform.testing import free_port, wait_for


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the client processes ------------------------------------------------------------------


async def _client_main(url: str, tokens: list[tuple[int, str]], ours: bool, out: Path) -> None:
    from websockets.asyncio.client import connect

    received: list[tuple[str, float]] = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    connected = 0

    async def one(user_id: int, token: str) -> None:
        nonlocal connected
        if ours:
            ws = await connect(
                url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=60
            )
        else:
            ws = await connect(f"{url}?u={user_id}", open_timeout=60)
        connected += 1
        async with ws:
            async for text in ws:
                now = time.time()
                message = json.loads(text)
                tag = (message.get("data") or {}).get("title")
                if tag:
                    received.append((tag, now))

    tasks = []
    for user_id, token in tokens:
        tasks.append(asyncio.create_task(one(user_id, token)))
        await asyncio.sleep(0.002)  # not 500 handshakes in one burst
    while connected < len(tokens):
        await asyncio.sleep(0.05)
    # the clients are the measuring instrument: no collector pause of theirs in the figures
    gc.freeze()
    gc.disable()
    out.with_suffix(".ready").touch()
    await stop.wait()
    for task in tasks:
        task.cancel()
    out.write_text(json.dumps(received))


def client_process(args: argparse.Namespace) -> None:
    raise_fd_limit()
    tokens = json.loads(Path(args.tokens).read_text())
    asyncio.run(_client_main(args.url, [tuple(t) for t in tokens], args.ours, Path(args.out)))


# --- the benchmark -------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(application: str, port: int, work: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "LIVE_PORT": str(port), "HOST": "127.0.0.1"}
    code = f"from live.__main__ import serve; serve({application!r})"
    log = (work / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )

    def listening() -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    assert wait_for(listening, timeout=60), (work / f"{name}.log").read_text()
    return process


def warm_idle_rss(process: subprocess.Popen, url: str, token: str, ours: bool) -> int:
    """RSS after one connection came and went (imports and the layer's connection done)."""
    from websockets.sync.client import connect

    if ours:
        with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            ws.recv(timeout=10)  # live.hello
    else:
        with connect(f"{url}?u=1"):
            pass
    time.sleep(1.0)
    return rss_kb(process.pid)


def start_clients(
    work: Path, url: str, tokens: list[tuple[int, str]], procs: int, ours: bool, name: str
) -> list[tuple[subprocess.Popen, Path]]:
    clients = []
    share = (len(tokens) + procs - 1) // procs
    for index in range(procs):
        part = tokens[index * share : (index + 1) * share]
        tokens_file = work / f"{name}-tokens-{index}.json"
        tokens_file.write_text(json.dumps(part))
        out = work / f"{name}-client-{index}.json"
        command = [
            sys.executable,
            __file__,
            "--client",
            "--url",
            url,
            "--tokens",
            str(tokens_file),
            "--out",
            str(out),
        ]
        if ours:
            command.append("--ours")
        clients.append((subprocess.Popen(command, cwd=ROOT), out))
    for process, out in clients:
        ready = out.with_suffix(".ready")
        assert wait_for(ready.exists, timeout=180), "clients did not connect"
        assert process.poll() is None
    return clients


def stop_clients(clients: list[tuple[subprocess.Popen, Path]]) -> list[tuple[str, float]]:
    received: list[tuple[str, float]] = []
    for process, _ in clients:
        process.send_signal(signal.SIGTERM)
    for process, out in clients:
        process.wait(timeout=60)
        received += [(tag, at) for tag, at in json.loads(out.read_text())]
    return received


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def summarize(
    name: str, sent: dict[str, float], received: list[tuple[str, float]], fanout: int
) -> dict[str, Any]:
    private = [(at - sent[tag]) * 1000 for tag, at in received if tag.startswith("p-")]
    public = [(at - sent[tag]) * 1000 for tag, at in received if tag.startswith("b-")]
    last: dict[str, float] = {}
    for tag, at in received:
        if tag.startswith("b-"):
            last[tag] = max(last.get(tag, 0.0), (at - sent[tag]) * 1000)
    expected_private = sum(1 for tag in sent if tag.startswith("p-"))
    expected_public = sum(1 for tag in sent if tag.startswith("b-")) * fanout
    result = {
        "name": name,
        "private": {
            "delivered": f"{len(private)}/{expected_private}",
            "p50_ms": round(statistics.median(private), 1),
            "p99_ms": round(pct(private, 99), 1),
            "max_ms": round(max(private), 1),
        },
        "public": {
            "delivered": f"{len(public)}/{expected_public}",
            "p50_ms": round(statistics.median(public), 1),
            "p99_ms": round(pct(public, 99), 1),
            "last_client_p50_ms": round(statistics.median(last.values()), 1),
            "last_client_max_ms": round(max(last.values()), 1),
        },
    }
    print(json.dumps(result), flush=True)
    return result


def run_ours(args, work, users, tasks, public_task) -> dict[str, Any]:
    from django.db import transaction

    from tasks.services import task_update

    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/"
    server = start_server("taskplatform.asgi:application", port, work, "live")
    try:
        idle = warm_idle_rss(server, url, users[0][2], ours=True)
        clients = start_clients(
            work, url, [(u, t) for u, _, t in users], args.client_procs, True, "ours"
        )
        time.sleep(2)
        loaded = rss_kb(server.pid)
        sent: dict[str, float] = {}
        rng = random.Random(1)

        def update(task, owner, tag):
            with transaction.atomic():
                transaction.on_commit(lambda: sent.__setitem__(tag, time.time()))
                task_update(task=task, actor=owner, title=tag)

        def private(n: int) -> None:
            index = rng.randrange(len(tasks))
            update(tasks[index], users[index][1], f"p-{n}")

        drive(args, private, lambda n: update(public_task, users[0][1], f"b-{n}"))
        received = stop_clients(clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return summarize_run("ours", sent, received, users, idle, loaded)


def drive(args, private: Callable[[int], None], public: Callable[[int], None]) -> None:
    """`--private` events at `--rate` a second, then `--public` ones a second apart, then
    3 s for the last to arrive."""
    interval = 1 / args.rate
    next_at = time.monotonic()
    for n in range(args.private):
        private(n)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    for n in range(args.public):
        public(n)
        time.sleep(1.0)
    time.sleep(3)


def summarize_run(name, sent, received, users, idle: int, loaded: int) -> dict[str, Any]:
    result = summarize(name, sent, received, len(users))
    result["rss_idle_mb"] = round(idle / 1024, 1)
    result["rss_loaded_mb"] = round(loaded / 1024, 1)
    result["kb_per_connection"] = round((loaded - idle) / len(users), 1)
    return result


def run_baseline(args, work, users) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from live.pushing import _client, _layer_config, group_channel

    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/"
    server = start_server("benchmarks.live_baseline:application", port, work, "baseline")
    layer = get_channel_layer()
    redis_client = _client(_layer_config()[0])
    try:
        idle = warm_idle_rss(server, url, "", ours=False)
        clients = start_clients(
            work, url, [(u, "") for u, _, _ in users], args.client_procs, False, "baseline"
        )
        time.sleep(2)
        loaded = rss_kb(server.pid)
        sent: dict[str, float] = {}
        rng = random.Random(1)

        def publish(group: str, tag: str) -> None:
            text = json.dumps({"id": 0, "type": "task.updated", "data": {"title": tag}})
            message = layer.serialize({"type": "live.event", "id": 0, "text": text})
            sent[tag] = time.time()
            redis_client.publish(group_channel(group), message)

        drive(
            args,
            lambda n: publish(f"live.u{users[rng.randrange(len(users))][0]}", f"p-{n}"),
            lambda n: publish("live.public", f"b-{n}"),
        )
        received = stop_clients(clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return summarize_run("baseline", sent, received, users, idle, loaded)


def prepare(count: int):
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from live.models import LiveEvent
    from tasks.models import Task

    LiveEvent.objects.all().delete()
    Task.objects.all().delete()
    User.objects.filter(email__endswith="@live.bench").delete()
    password = make_password(None)
    people = User.objects.bulk_create(
        [User(email=f"u{n}@live.bench", password=password) for n in range(count)]
    )
    users = [(u.pk, u, str(AccessToken.for_user(u))) for u in people]
    tasks = Task.objects.bulk_create([Task(owner=u, title="t") for u in people])
    public_task = Task.objects.create(owner=people[0], title="public", visibility="public")
    return users, tasks, public_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--private", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--public", type=int, default=20)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_process(args)
        return
    raise_fd_limit()
    from benchmarks.harness import bench_setup

    work = bench_setup(
        prefix="bench-live-",
        database="bench_live",
        redis_db=11,
        JWT_ACCESS_SECONDS="7200",
        ALLOWED_HOSTS="*",
    )
    users, tasks, public_task = prepare(args.clients)
    baseline = run_baseline(args, work, users)
    ours = run_ours(args, work, users, tasks, public_task)
    ratio = ours["private"]["p99_ms"] / baseline["private"]["p99_ms"]
    print(
        f"\nprivate p50/p99: ours {ours['private']['p50_ms']}/{ours['private']['p99_ms']} ms,"
        f" baseline {baseline['private']['p50_ms']}/{baseline['private']['p99_ms']} ms"
        f" (p99 ratio ours/baseline {ratio:.2f})"
        f"\npublic (1 → {len(users)}) p50/p99: ours {ours['public']['p50_ms']}/"
        f"{ours['public']['p99_ms']} ms, baseline {baseline['public']['p50_ms']}/"
        f"{baseline['public']['p99_ms']} ms; last client max: ours "
        f"{ours['public']['last_client_max_ms']} ms, baseline"
        f" {baseline['public']['last_client_max_ms']} ms"
        f"\nmemory per connection: ours {ours['kb_per_connection']} KB"
        f" (RSS {ours['rss_idle_mb']} → {ours['rss_loaded_mb']} MB), baseline"
        f" {baseline['kb_per_connection']} KB"
        f"\ngoal: p99 < 200 ms, to one client and to all — "
        f"{'met' if max(ours['private']['p99_ms'], ours['public']['p99_ms']) < 200 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
