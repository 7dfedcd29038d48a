"""What every benchmark that runs the platform's own processes sets up first."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_setup(*, prefix: str, database: str, redis_db: int, **environment: str) -> Path:
    """PostgreSQL (required: DATABASE_URL, default the local `database`), a Redis db
    (REDIS_URL, default db `redis_db`), a scratch folder for VAR_DIR, benchmarks.settings
    and `environment` for this process and the ones it starts; the database migrated and
    Django set up. Returns the scratch folder."""
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "VAR_DIR": str(work),
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            **environment,
        }
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    return work
