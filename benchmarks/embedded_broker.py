"""The embedded broker against Redis: `make run`'s default, the same worker, the same run.

`make run`'s default — SQLite database, file cache, mail written to files — with the worker
and beat started as the Procfile starts them, in turn on the embedded broker (kombu's
SQLAlchemy transport on `var/broker.sqlite3`) and on Redis (`CELERY_BROKER_URL`; nothing
else changes). Each round, in a scratch VAR_DIR of its own:

  1. 1,000 reminder jobs of 100 people (ten each) are created;
  2. a burst of 1,000 "run now"s — `jobs.services.job_run_now`, what the web app's button
     and the API call — one after the other, each publishing its message on commit;
  3. the clock stops when every run has finished; then every reminder email must be out.

Prints, per round and broker, how long the burst took to publish, how long until every run
had finished (goal on the embedded broker: within 30 s) and the rate (runs / seconds from
the first run-now to the last run's end); then the medians and the ratio embedded / Redis
(goal >= 0.5). Every run must have succeeded exactly once and every email been sent once.

    .venv/bin/python benchmarks/embedded_broker.py [--count 1000] [--rounds 2]

Needs redis-server on 127.0.0.1:6379 for the baseline (database 11, flushed each round).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta

REDIS_BROKER = "redis://127.0.0.1:6379/11"
BROKERS = ("embedded", "redis")
PROCESSES = {  # the Procfile's, at WARNING
    "worker": ["worker", "-l", "WARNING", "-Q", "default,notifications,maintenance"],
    "beat": ["beat", "-l", "WARNING"],
}


def one_round(broker: str, count: int) -> dict:
    """In this process: set up `make run`'s default on `broker`, start worker and beat, burst."""
    import django

    django.setup()
    from django.db.models import Max
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule

    from accounts.models import User
    from jobs.models import Job, JobRun
    from jobs.services import job_run_now
    from notifications.models import Notification
    from taskplatform import heartbeat
    from taskplatform.testing import wait_for

    work = Path(os.environ["VAR_DIR"])
    procs = []
    for name, args in PROCESSES.items():
        log = (work / f"{name}.log").open("w")
        command = [sys.executable, "-m", "celery", "-A", "taskplatform", *args]
        procs.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))

    def alive() -> bool:
        return all(proc.poll() is None for proc in procs)

    try:
        assert wait_for(lambda: heartbeat.is_alive("worker"), timeout=60), f"no worker: {work}"
        now = timezone.now()
        people = User.objects.bulk_create(
            User(email=f"burst-{n}@example.com", email_verified_at=now) for n in range(100)
        )
        clocked = ClockedSchedule.objects.create(clocked_time=now + timedelta(days=30))
        jobs = Job.objects.bulk_create(
            Job(
                owner=people[n % len(people)],
                name=f"reminder {n}",
                kind="reminder",
                params={"message": "Stand-up"},
                clocked=clocked,
                next_run_at=None,  # run only when asked
                notify_on=[],
            )
            for n in range(count)
        )
        start = time.time()
        for job in jobs:
            job_run_now(job=job, actor=job.owner)
        published = time.time() - start
        unfinished = JobRun.objects.filter(status__in=[JobRun.Status.QUEUED, JobRun.Status.RUNNING])
        assert wait_for(lambda: not unfinished.exists() or not alive(), timeout=600, interval=0.1)
        assert alive(), f"a process died: see {work}"
        assert not unfinished.exists(), f"{unfinished.count()} of {count} runs not finished: {work}"
        end = JobRun.objects.aggregate(end=Max("finished_at"))["end"].timestamp()
        statuses = list(JobRun.objects.values_list("status", flat=True))
        assert len(statuses) == count and set(statuses) == {JobRun.Status.SUCCEEDED}, statuses
        pending = Notification.objects.exclude(status=Notification.Status.SENT)
        assert wait_for(lambda: not pending.exists() or not alive(), timeout=600, interval=0.2)
        assert not pending.exists(), f"{pending.count()} emails not sent: {work}"
        assert Notification.objects.filter(kind="reminder").count() == count
        mails = sum(1 for _ in (work / "mail").iterdir())
        assert alive(), f"a process died: see {work}"
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    seconds = end - start
    return {"published": published, "seconds": seconds, "rate": count / seconds, "mails": mails}


def run_round(broker: str, count: int) -> dict:
    """One round in a child process with its own scratch VAR_DIR (settings read at import)."""
    work = tempfile.mkdtemp(prefix=f"bench-broker-{broker}-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",  # make run's
        VAR_DIR=work,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    if broker == "redis":
        import redis

        redis.Redis.from_url(REDIS_BROKER).flushdb()
        env["CELERY_BROKER_URL"] = REDIS_BROKER
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        out = subprocess.run(
            [sys.executable, __file__, "--one", broker, "--count", str(count)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="run-nows per round (1000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each broker (2)")
    parser.add_argument("--one", choices=BROKERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_round(args.one, args.count)))
        return
    results: dict[str, list[dict]] = {broker: [] for broker in BROKERS}
    for round_ in range(1, args.rounds + 1):
        for broker in BROKERS:
            result = run_round(broker, args.count)
            results[broker].append(result)
            print(
                f"  round {round_} {broker:<8} published in {result['published']:5.1f} s, "
                f"all finished after {result['seconds']:5.1f} s: {result['rate']:6.1f} runs/s "
                f"({result['mails']} mails)",
                flush=True,
            )
    seconds = statistics.median(r["seconds"] for r in results["embedded"])
    worst = max(r["seconds"] for r in results["embedded"])
    rate = {b: statistics.median(r["rate"] for r in results[b]) for b in BROKERS}
    ratio = rate["embedded"] / rate["redis"]
    print(f"{args.count} run-nows, make run's default (SQLite, worker + beat as in the Procfile)")
    print(f"embedded broker  {rate['embedded']:6.1f} runs/s  (median of {args.rounds})")
    print(f"Redis            {rate['redis']:6.1f} runs/s  (median of {args.rounds})")
    print(
        f"every run finished within {worst:.1f} s (median {seconds:.1f})   goal <= 30 s  "
        f"{'OK' if worst <= 30 else 'MISSED'}"
    )
    print(
        f"ratio embedded / Redis  {ratio:5.2f}   goal >= 0.5  {'OK' if ratio >= 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
