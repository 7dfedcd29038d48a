"""Settings behave per environment; checked in fresh processes, as deployments load them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
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


@pytest.mark.e2e
@pytest.mark.parametrize("key", ["", "short", "dev-" + "x" * 60, "a" * 60])
def test_prod_refuses_to_start_without_a_real_secret_key(key):
    done = run(
        ["manage.py", "check"], DJANGO_SETTINGS_MODULE="taskplatform.settings.prod", SECRET_KEY=key
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


@pytest.mark.e2e
def test_check_deploy_with_prod_settings_has_no_warnings():
    done = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="taskplatform.settings.prod",
        SECRET_KEY=GOOD_KEY,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.e2e
def test_the_embedded_default_is_sqlite_files_and_an_sqlite_broker(tmp_path):
    script = textwrap.dedent(
        """
        from django.conf import settings as s
        db = s.DATABASES["default"]
        print(db["ENGINE"], db["NAME"])
        print(db["OPTIONS"]["transaction_mode"], "WAL" in db["OPTIONS"]["init_command"])
        print(s.CELERY_BROKER_URL, s.CACHES["default"]["BACKEND"])
        print(s.EMAIL_BACKEND, s.EMBEDDED_BROKER, s.EMBEDDED_MAIL)
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
        f"sqlite:///{tmp_path / 'broker.sqlite3'}",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]
    assert lines[3].split() == ["notifications.mailbox.MailboxBackend", "True", "True"]
    assert lines[4] == str(tmp_path / "media")
    for folder in ("mail", "media", "cache"):
        assert (tmp_path / folder).is_dir()


@pytest.mark.e2e
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


@pytest.mark.e2e
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


# --- the dev SECRET_KEY: random, made once in var/, shared by every process -----------------

PRINT_KEY = (
    "import django; django.setup()\nfrom django.conf import settings\nprint(settings.SECRET_KEY)"
)


@pytest.mark.e2e
def test_dev_makes_a_random_secret_key_once_and_keeps_it(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "taskplatform.settings.dev", "VAR_DIR": str(tmp_path)}
    first = run(["-c", PRINT_KEY], **env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == key and len(key) >= 80
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "insecure" not in key and not key.startswith("dev-")
    assert run(["-c", PRINT_KEY], **env).stdout.strip() == key
    # another var/ (another checkout, another machine): another key
    other = run(["-c", PRINT_KEY], **{**env, "VAR_DIR": str(tmp_path / "other")})
    assert other.stdout.strip() not in ("", key)
    assert not list(tmp_path.glob(".secret_key-*"))  # no temp file left


@pytest.mark.e2e
def test_dev_takes_SECRET_KEY_from_the_environment_and_writes_no_file(tmp_path):
    done = run(
        ["-c", PRINT_KEY],
        DJANGO_SETTINGS_MODULE="taskplatform.settings.dev",
        VAR_DIR=str(tmp_path),
        SECRET_KEY=GOOD_KEY,
    )
    assert done.stdout.strip() == GOOD_KEY, done.stderr
    assert not (tmp_path / "secret_key").exists()


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from taskplatform.settings.dev import secret_key_file
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    print(secret_key_file(Path(sys.argv[1])))
    """
)


@pytest.mark.e2e
def test_web_worker_and_beat_starting_at_once_agree_on_one_key(tmp_path):
    """The key signs sessions and JWTs: a token from web must verify in the worker."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.dev",
        "SECRET_KEY": GOOD_KEY,  # the racers' own settings import must not race for it
        "VAR_DIR": str(tmp_path / "var"),
    }
    path, go = tmp_path / "race" / "secret_key", tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path), str(go)],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    time.sleep(1.5)  # all imported and waiting
    go.touch()
    keys = set()
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        keys.add(out.strip())
    assert keys == {path.read_text().strip()}
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temp file left


def test_a_key_file_without_a_usable_key_is_refused(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from taskplatform.settings.dev import secret_key_file

    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="delete it"):
        secret_key_file(tmp_path / "secret_key")


# --- production: hashed static files, HTTPS switches -----------------------------------------

ADMIN_LOGIN = textwrap.dedent(
    """
    import re, django
    django.setup()
    from django.conf import settings
    from django.test import Client
    client = Client()
    page = client.get("/admin/login/", secure=True)
    css = re.search(r'href="(/static/admin/css/base[.][0-9a-f]{12}[.]css)"', page.content.decode())
    print(settings.STORAGES["staticfiles"]["BACKEND"], page.status_code, css.group(1))
    served = client.get(css.group(1), secure=True)
    print(served.status_code, served["Cache-Control"])
    """
)


@pytest.mark.e2e
def test_prod_serves_the_admin_with_the_hashed_files_collectstatic_wrote(tmp_path):
    """As the Dockerfile does: collectstatic with the runtime settings, then serve."""
    env = {
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.prod",
        "SECRET_KEY": GOOD_KEY,
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "ALLOWED_HOSTS": "testserver",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    collected = run(["manage.py", "collectstatic", "--noinput", "-v0"], **env)
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    done = run(["-c", ADMIN_LOGIN], **env)
    assert done.returncode == 0, done.stderr
    storage, status, css = done.stdout.splitlines()[0].split()
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert status == "200" and css != "/static/admin/css/base.css"
    served_status, cache_control = done.stdout.splitlines()[1].split(" ", 1)
    assert served_status == "200"
    assert "immutable" in cache_control  # hashed names may be cached forever


PRINT_HTTPS = (
    "import re, django; django.setup()\nfrom django.conf import settings as s\n"
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
    " all(any(re.search(p, path) for p in s.SECURE_REDIRECT_EXEMPT)"
    " for path in ('health/live', 'health/ready')))"
)


@pytest.mark.e2e
def test_prod_is_https_only_unless_a_plain_http_trial_says_otherwise(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "taskplatform.settings.prod",
        "SECRET_KEY": GOOD_KEY,
        "VAR_DIR": str(tmp_path),
        "SECURE_SSL_REDIRECT": "",
        "SESSION_COOKIE_SECURE": "",
        "CSRF_COOKIE_SECURE": "",
    }
    default = run(["-c", PRINT_HTTPS], **env)
    assert default.stdout.split() == ["True", "True", "True", "True"], default.stderr
    trial = run(
        ["-c", PRINT_HTTPS],
        **{**env, "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false"},
    )
    assert trial.stdout.split() == ["False", "False", "True", "True"], trial.stderr


def test_dev_serves_static_files_without_a_manifest():
    from taskplatform.settings import base, dev

    assert "Manifest" in base.STORAGES["staticfiles"]["BACKEND"]
    assert "Manifest" not in dev.STORAGES["staticfiles"]["BACKEND"]
    assert dev.STORAGES["default"] == base.STORAGES["default"]
