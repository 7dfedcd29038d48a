"""Task list throughput: GET /api/v1/tasks/ against a bare .values() view, same gunicorn.

Seeds 100,000 tasks for one user in PostgreSQL, starts gunicorn (the production
gunicorn.conf.py, 2 sync workers) and, alternating, drives each URL with 4 client threads
for a few seconds:
  API       /api/v1/tasks/?page_size=50&status=todo,in_progress&ordering=due_at  (JWT)
  baseline  a view returning the same 50 rows from .values() as JsonResponse
Prints requests/s of both and the ratio (goal >= 0.5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/task_list.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

from taskplatform.testing import free_port, wait_for

API = "/api/v1/tasks/?page_size=50&status=todo,in_progress&ordering=due_at"
BASELINE = "/bench/tasks/"


def drive(port: int, path: str, token: str | None, seconds: float, clients: int) -> float:
    done, errors, stop = [0] * clients, [], time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client(i: int) -> None:
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                errors.append(response.status)
                return
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:5]
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    work = Path(tempfile.mkdtemp(prefix="bench-task-list-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "VAR_DIR": str(work),
            "PYTHONPATH": str(ROOT),
            "WEB_CONCURRENCY": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
        }
    )
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    user, _ = User.objects.get_or_create(email="list-bench@example.com")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tasks_task")
        cursor.execute(
            "INSERT INTO tasks_task (owner_id, title, description, status, priority, due_at,"
            " visibility, created_at, updated_at) SELECT %s, 'Task ' || g, 'Some words',"
            " (ARRAY['todo','in_progress','done','blocked'])[g %% 4 + 1], g %% 4 + 1,"
            " now() + (g %% 50000) * interval '1 minute', 'private', now(), now()"
            " FROM generate_series(1, %s) g",
            [user.pk, args.tasks],
        )
        # steady state: autovacuum has run (the visibility map lets counts use the index)
        cursor.execute("VACUUM ANALYZE tasks_task")
    token = str(AccessToken.for_user(user))

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "taskplatform.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    try:
        assert wait_for(lambda: _up(port), 30), "gunicorn did not start"
        drive(port, API, token, 1, 2)  # warm both workers and paths
        drive(port, BASELINE, None, 1, 2)
        api, bare = [], []
        for _ in range(args.rounds):
            bare.append(drive(port, BASELINE, None, args.seconds, args.clients))
            api.append(drive(port, API, token, args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tasks_task")

    api_rate, bare_rate = statistics.median(api), statistics.median(bare)
    ratio = api_rate / bare_rate
    print(
        f"tasks                {args.tasks} (one owner), PostgreSQL; gunicorn 2 sync workers, "
        f"{args.clients} clients, {args.rounds} x {args.seconds:.0f} s (median)"
    )
    print(f"bare .values() view  {bare_rate:8.1f} req/s")
    print(f"GET /api/v1/tasks/   {api_rate:8.1f} req/s   (JWT, filters, count, serializer)")
    print(f"ratio                {ratio:8.2f}   goal >= 0.5  {'OK' if ratio >= 0.5 else 'MISSED'}")


def _up(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/health/live")
        return conn.getresponse().status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
