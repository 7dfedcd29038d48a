"""Settings behave per environment; checked in fresh processes, as deployments load them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" + "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRST"


def run(args, **env):
    merged = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    merged.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=merged, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("key", ["", "short", "dev-" + "x" * 60, "a" * 60])
def test_prod_refuses_to_start_without_a_real_secret_key(key):
    done = run(
        ["manage.py", "check"], DJANGO_SETTINGS_MODULE="taskplatform.settings.prod", SECRET_KEY=key
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_check_deploy_with_prod_settings_has_no_warnings():
    done = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="taskplatform.settings.prod",
        SECRET_KEY=GOOD_KEY,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_embedded_default_is_sqlite_files_and_a_file_broker(tmp_path):
    script = textwrap.dedent(
        """
        from django.conf import settings as s
        db = s.DATABASES["default"]
        print(db["ENGINE"], db["NAME"])
        print(db["OPTIONS"]["transaction_mode"], "WAL" in db["OPTIONS"]["init_command"])
        print(s.CELERY_BROKER_URL, s.CACHES["default"]["BACKEND"], s.EMAIL_BACKEND)
        print(s.MEDIA_ROOT)
        """
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.dev",
        "VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "EMAIL_HOST": "",
        "SENDGRID_API_KEY": "",
    }
    done = run(["-c", "import django; django.setup()\n" + script], **env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"django.db.backends.sqlite3 {tmp_path / 'db.sqlite3'}"
    assert lines[1] == "IMMEDIATE True"
    assert lines[2].split() == [
        "filesystem://localhost/",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.mail.backends.filebased.EmailBackend",
    ]
    assert lines[3] == str(tmp_path / "media")
    for folder in ("mail", "media", "cache", "broker/queue", "broker/control"):
        assert (tmp_path / folder).is_dir()


def test_database_and_redis_urls_switch_to_postgres_and_redis(tmp_path):
    script = (
        "import django; django.setup()\nfrom django.conf import settings as s\n"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.CACHES['default']['BACKEND'], s.EMAIL_BACKEND)"
    )
    done = run(
        ["-c", script],
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://u@db:5432/x",
        REDIS_URL="redis://cache:6379/0",
        SENDGRID_API_KEY="SG.x",
    )
    assert done.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache:6379/0",
        "django_redis.cache.RedisCache",
        "anymail.backends.sendgrid.EmailBackend",
    ], done.stderr


WRITER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from django.db import transaction
    from audit.models import AuditEvent
    for n in range(60):
        with transaction.atomic():
            count = AuditEvent.objects.count()   # read first, then write: the classic lock upgrade
            AuditEvent.objects.create(action=f"w{sys.argv[1]}", details={"seen": count})
    print("ok")
    """
)


def test_three_processes_write_to_the_embedded_sqlite_at_once_without_lock_errors(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.dev",
        "VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    assert run(["manage.py", "migrate", "-v0"], **env).returncode == 0
    merged = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **env}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n)],
            cwd=ROOT,
            env=merged,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    results = [w.communicate(timeout=120) for w in writers]
    for (out, err), writer in zip(results, writers, strict=True):
        assert writer.returncode == 0 and out.strip() == "ok", err
    count = run(
        [
            "-c",
            "import django; django.setup()\nfrom audit.models import AuditEvent\n"
            "print(AuditEvent.objects.count())",
        ],
        **env,
    )
    assert count.stdout.strip() == "180"


def test_make_run_serves_the_admin_and_docs_static_files(settings):
    """The embedded default has no collectstatic step: WhiteNoise finds files in the apps."""
    from django.test import RequestFactory
    from whitenoise.middleware import WhiteNoiseMiddleware

    from taskplatform.settings import dev

    assert dev.WHITENOISE_USE_FINDERS is True
    settings.WHITENOISE_USE_FINDERS = True
    settings.STATIC_ROOT = None
    middleware = WhiteNoiseMiddleware(lambda request: None)
    for path in [
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ]:
        response = middleware(RequestFactory().get(path))
        assert response is not None and response.status_code == 200, path
