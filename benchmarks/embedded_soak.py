"""`make run`'s default under steady use for an hour: no process lost, every run finished.

Starts what `make run` starts — `python -m taskplatform.supervise` on the embedded default
(SQLite, the SQLite broker, file cache, mail to var/mail/) in a scratch VAR_DIR — and, for
`--minutes`, has three people use it over HTTP: every 0.3 s one of them (in turn) creates
a task assigned to the next one and presses "run now" on one of their reminder jobs. Then
it waits for the work to drain (90 s at most) and prints: requests made and their failures,
runs asked for / finished / still queued, the seconds from a run-now to its run's end (p50,
p99, max), emails sent, the processes supervisord had to start again (goal: none), and the
memory of each process at the end.

    .venv/bin/python benchmarks/embedded_soak.py [--minutes 60] [--port 8600]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

PASSWORD = "soak-password-Correct-Horse-9"  # noqa: S105


def call(base: str, method: str, path: str, token: str = "", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--every", type=float, default=0.3, help="seconds between actions")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",
        VAR_DIR=str(work),
        LIVE_PORT=str(args.port + 1),
        SITE_URL=f"http://127.0.0.1:{args.port}",
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    log = (work / "console.log").open("w")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "taskplatform.supervise", "--port", str(args.port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        report = soak(base, work, args)
    finally:
        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        supervisor.wait(timeout=60)
    report["stopped_by_ctrl_c"] = supervisor.returncode == 0
    for key, value in report.items():
        print(f"{key:<28} {value}")
    shutil.rmtree(work, ignore_errors=True)


def soak(base: str, work: Path, args: argparse.Namespace) -> dict:
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from jobs.models import JobRun
    from notifications.models import Notification
    from taskplatform.testing import wait_for

    def up() -> bool:
        try:
            return urllib.request.urlopen(base + "/health/live", timeout=2).status == 200  # noqa: S310
        except OSError:
            return False

    assert wait_for(up, timeout=60), f"make run did not come up: {work}"
    people = []
    for n in range(3):
        user = User.objects.create_user(
            email=f"soak-{n}@example.com", password=PASSWORD, email_verified_at=timezone.now()
        )
        token = call(
            base, "POST", "/api/v1/auth/login/", body={"email": user.email, "password": PASSWORD}
        )["access"]
        jobs = [
            call(
                base,
                "POST",
                "/api/v1/jobs/",
                token,
                {
                    "name": f"Reminder {k}",
                    "kind": "reminder",
                    "params": {"message": "Soak"},
                    "schedule": {"type": "cron", "expression": "0 3 1 1 *"},
                    "notify_on": [],
                },
            )["id"]
            for k in range(5)
        ]
        people.append({"user": user, "token": token, "jobs": jobs, "login": time.time()})
    requests = failures = asked = 0
    errors: dict[str, int] = {}
    end = time.time() + args.minutes * 60
    step = 0
    while time.time() < end:
        started = time.time()
        me, other = people[step % 3], people[(step + 1) % 3]
        if started - me["login"] > 240:  # access tokens live 5 minutes
            me["token"] = call(
                base,
                "POST",
                "/api/v1/auth/login/",
                body={"email": me["user"].email, "password": PASSWORD},
            )["access"]
            me["login"] = started
        for method, path, body in (
            ("POST", "/api/v1/tasks/", {"title": f"Soak {step}", "assignee_id": other["user"].pk}),
            ("POST", f"/api/v1/jobs/{me['jobs'][step % 5]}/run/", None),
        ):
            requests += 1
            try:
                call(base, method, path, me["token"], body)
                asked += path.endswith("/run/")
            except (urllib.error.URLError, OSError) as exc:
                failures += 1
                errors[str(exc)[:80]] = errors.get(str(exc)[:80], 0) + 1
        step += 1
        time.sleep(max(0.0, args.every - (time.time() - started)))
    unfinished = JobRun.objects.filter(status__in=[JobRun.Status.QUEUED, JobRun.Status.RUNNING])
    wait_for(lambda: not unfinished.exists(), timeout=90, interval=1)
    manual = JobRun.objects.filter(trigger=JobRun.Trigger.MANUAL)
    lag = sorted(
        (finished - created).total_seconds()
        for created, finished in manual.values_list("created_at", "finished_at")
        if finished is not None
    )
    restarts = (work / "supervisord.log").read_text().count("not expected")
    rss: dict[str, int] = {}
    for line in subprocess.run(
        ["ps", "-eo", "rss,args"], capture_output=True, text=True
    ).stdout.splitlines():
        for name in ("gunicorn", "worker", "beat", "-m live"):
            if name in line and str(work) not in line and "soak" not in line:
                rss[name] = max(rss.get(name, 0), int(line.split()[0]) // 1024)
    return {
        "minutes": args.minutes,
        "requests": requests,
        "failed requests": f"{failures} {errors or ''}",
        "run-nows asked": asked,
        "runs made": manual.count(),
        "runs finished": manual.exclude(finished_at=None).count(),
        "runs not finished": unfinished.count(),
        "runs by status": {
            s: manual.filter(status=s).count() for s in set(manual.values_list("status", flat=True))
        },
        "run-now to done p50 (s)": round(statistics.median(lag), 2) if lag else None,
        "run-now to done p99 (s)": round(lag[int(len(lag) * 0.99) - 1], 2) if lag else None,
        "run-now to done max (s)": round(lag[-1], 2) if lag else None,
        "emails by status": {
            s: Notification.objects.filter(status=s).count()
            for s in set(Notification.objects.values_list("status", flat=True))
        },
        "emails unsent": Notification.objects.filter(status__in=["queued", "sending"]).count(),
        "processes restarted": restarts,
        "peak RSS now (MB)": rss,
    }


if __name__ == "__main__":
    main()
