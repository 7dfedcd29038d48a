"""The API's request path against bare Django views on the same gunicorn: /auth/me/ and /tasks/.

Seeds 100,000 tasks for one user in PostgreSQL, starts gunicorn (the production
gunicorn.conf.py, 2 sync workers; the rate limits on and counted in Redis, as in production)
and, alternating in every round, drives each URL with 4 client threads for a few seconds:
  /auth/me/   GET /api/v1/auth/me/  (JWT, throttle, serializer)
              against a bare JsonResponse of the same fields (no auth, no database)
  /tasks/     GET /api/v1/tasks/?page_size=50&status=todo,in_progress&ordering=due_at
              against a view returning the same 50 rows from .values() as JsonResponse
Prints requests/s of each and the ratios (goal >= 0.5 for both).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/11 \
        .venv/bin/python benchmarks/request_path.py
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

# (what is measured, the API's URL, its bare baseline)
PAIRS = [
    ("/auth/me/", "/api/v1/auth/me/", "/bench/me/"),
    (
        "/tasks/",
        "/api/v1/tasks/?page_size=50&status=todo,in_progress&ordering=due_at",
        "/bench/tasks/",
    ),
]


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
    if not os.environ.get("REDIS_URL"):
        sys.exit("This benchmark needs Redis (REDIS_URL=redis://127.0.0.1:6379/<a db of its own>).")
    work = Path(tempfile.mkdtemp(prefix="bench-request-path-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.request_path_settings",
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
    rates: dict[str, list[float]] = {url: [] for _, api, bare in PAIRS for url in (api, bare)}
    try:
        assert wait_for(lambda: _up(port), 30), "gunicorn did not start"
        for url in rates:  # warm both workers and every path
            drive(port, url, token, 1, 2)
        for _ in range(args.rounds):
            for _, api, bare in PAIRS:
                rates[bare].append(drive(port, bare, None, args.seconds, args.clients))
                rates[api].append(drive(port, api, token, args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tasks_task")

    print(
        f"tasks  {args.tasks} (one owner), PostgreSQL + Redis; gunicorn 2 sync workers, "
        f"{args.clients} clients, {args.rounds} x {args.seconds:.0f} s alternating (median)"
    )
    for name, api, bare in PAIRS:
        api_rate, bare_rate = statistics.median(rates[api]), statistics.median(rates[bare])
        ratio = api_rate / bare_rate
        verdict = "OK" if ratio >= 0.5 else "MISSED"
        print(
            f"{name:<10} API {api_rate:7.1f} req/s   bare {bare_rate:7.1f} req/s   "
            f"ratio {ratio:5.2f}  goal >= 0.5 {verdict}"
        )


def _up(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/health/live")
        return conn.getresponse().status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
