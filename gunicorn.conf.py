"""gunicorn settings, read from the environment like everything else."""

import os
import shutil
from pathlib import Path

# This machine only unless told otherwise: `make run` is reachable from the network only
# with HOST=0.0.0.0; the Docker image sets HOST=0.0.0.0 (the container's port is published).
_host = os.environ.get("HOST", "127.0.0.1")
if ":" in _host and not _host.startswith("["):
    _host = f"[{_host}]"  # IPv6, e.g. HOST=::1
bind = f"{_host}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
# gunicorn's own refusals (request line over limit_request_line: 414, headers too large:
# 431, malformed: 400) in the API's JSON error envelope instead of an HTML page
worker_class = "taskplatform.gunicorn_workers.JsonErrors" + (
    "ThreadWorker" if threads > 1 else "SyncWorker"
)
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
accesslog = None  # the request-context middleware logs every request as JSON
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics of all worker processes are summed through files in this folder (prometheus_client
# multiprocess mode); it must be empty when the server starts.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("VAR_DIR", "var")) / "prometheus")
)


# Uploads hash on a helper thread while the request thread reads the socket (files.uploads).
# CPython's default 5 ms GIL switch interval makes that helper wait behind the reader after
# every chunk; a shorter one lets the two overlap (benchmarks/upload.py: ~390 -> ~490-610
# MiB/s on a 2-core machine).
switch_interval = float(os.environ.get("WEB_SWITCH_INTERVAL", "0.0002"))


def post_worker_init(worker):
    import sys

    sys.setswitchinterval(switch_interval)


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# gunicorn 25+ opens a control socket at ~/.gunicorn/gunicorn.ctl by default: one path for
# every instance the same user runs (they clash), and nothing here uses it
control_socket_disable = True
