"""Dockerfile and docker-compose.yml: in step with the Procfile and shaped for a real deployment.

Docker can't run here, so the files are read: compose values are interpolated the way docker
compose does it (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`) from a given .env.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOTENV = {"SECRET_KEY": "k" * 64}  # the one variable the compose file requires


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name.strip(): shlex.split(command)
        for name, command in (line.split(":", 1) for line in lines if line.strip())
    }


def interpolate(text: str, env: dict[str, str]) -> str:
    """docker compose's ${VAR}, ${VAR:-default} (defaults may nest) and ${VAR:?error}."""
    out, i = [], 0
    while (start := text.find("${", i)) != -1:
        out.append(text[i:start])
        depth, end = 1, start + 2
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        name, operator, rest = re.fullmatch(
            r"(\w+)(?::([-?]))?(.*)", text[start + 2 : end - 1]
        ).groups()
        value = env.get(name, "")
        if not value and operator == "-":
            value = interpolate(rest, env)
        elif not value and operator == "?":
            raise ValueError(f"{name}: {rest}")
        out.append(value)
        i = end
    return "".join(out) + text[i:]


def _walk(node, env):
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def compose(dotenv: dict[str, str] | None = None) -> dict:
    """docker-compose.yml as docker compose sees it with this .env (values, not comments)."""
    return _walk(
        yaml.safe_load((ROOT / "docker-compose.yml").read_text()),
        DOTENV if dotenv is None else dotenv,
    )


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def dockerfile_env() -> dict[str, str]:
    block = re.search(r"^ENV (.*?)(?<!\\)\n", dockerfile(), re.M | re.S).group(1)
    return dict(pair.split("=", 1) for pair in block.replace("\\\n", " ").split())


def test_interpolation_reads_like_docker_compose():
    env = {"A": "a", "EMPTY": ""}
    assert interpolate("${A}-${A:-x}-${EMPTY:-d}-${B:-x${A}}-${B:-${C:-z}}", env) == "a-a-d-xa-z"
    with pytest.raises(ValueError, match="B: set it"):
        interpolate("${B:?set it}", env)


def test_compose_runs_the_procfile_commands():
    services = compose()["services"]
    for name, command in procfile().items():
        assert shlex.split(services[name]["command"]) == command, name


def test_compose_has_the_whole_stack_with_real_services():
    services = compose()["services"]
    assert {"migrate", "web", "worker", "beat", "live", "postgres", "redis", "mailpit"} <= set(
        services
    )
    for name in ("migrate", "web", "worker", "beat", "live"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "taskplatform.settings.prod"
        assert env["DATABASE_URL"] == (
            "postgres://taskplatform:taskplatform@postgres:5432/taskplatform"
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_dotenv_overrides_the_database_and_redis_urls():
    """`environment:` wins over env_file, so the compose file must interpolate what .env sets."""
    dotenv = {
        **DOTENV,
        "DATABASE_URL": "postgres://app:pw@db.internal:5432/tasks",
        "REDIS_URL": "redis://cache.internal:6379/2",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": "587",
    }
    services = compose(dotenv)["services"]
    for name in ("migrate", "web", "worker", "beat", "live"):
        env = services[name]["environment"]
        for variable in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "EMAIL_PORT"):
            assert env[variable] == dotenv[variable], (name, variable)
    assert services["flower"]["environment"]["CELERY_BROKER_URL"] == dotenv["REDIS_URL"]


def test_compose_refuses_to_start_without_a_secret_key():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        compose({})


def test_worker_and_beat_wait_for_migrate():
    services = compose()["services"]
    for name in ("web", "worker", "beat", "live"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name


def test_uploads_are_on_a_volume_shared_by_web_and_worker():
    """The worker deletes blobs (file_cleanup, user deletion) and re-hashes them (verify)."""
    config = compose()
    media = f"{dockerfile_env()['VAR_DIR']}/media"
    assert media == "/app/var/media"  # base.MEDIA_ROOT is VAR_DIR / "media"
    for name in ("web", "worker"):
        assert f"media:{media}" in config["services"][name]["volumes"], name
    assert "media" in config["volumes"]
    # the image makes the folder for the app user, so a fresh volume mounted there is theirs
    assert re.search(rf"mkdir -p {media}\b.*chown -R app:app /app/var", dockerfile(), re.S)


def test_collected_static_files_are_outside_var():
    """A volume on var/ (or var/media) must not hide the files the image collected."""
    from django.conf import settings

    assert not Path(settings.STATIC_ROOT).is_relative_to(settings.VAR_DIR)
    assert Path(settings.STATIC_ROOT) == ROOT / "staticfiles"
    assert "staticfiles/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "staticfiles" in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_local_trial_works_over_plain_http_on_localhost():
    """No TLS proxy in the compose file: its defaults must not redirect to https."""
    services = compose()["services"]
    env = services["web"]["environment"]
    assert env["SECURE_SSL_REDIRECT"] == "false"
    assert env["SESSION_COOKIE_SECURE"] == env["CSRF_COOKIE_SECURE"] == "false"
    assert set(env["ALLOWED_HOSTS"].split(",")) == {"localhost", "127.0.0.1"}
    assert env["SITE_URL"] == "http://localhost:8000"
    assert env["HOST"] == "0.0.0.0"  # noqa: S104 — inside the container
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    # behind a TLS proxy, .env turns it all on
    production = {
        **DOTENV,
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "ALLOWED_HOSTS": "tasks.example.com",
        "SITE_URL": "https://tasks.example.com",
        "PORT": "9000",
    }
    services = compose(production)["services"]
    env = services["web"]["environment"]
    assert env["SECURE_SSL_REDIRECT"] == env["SESSION_COOKIE_SECURE"] == "true"
    assert env["SITE_URL"] == "https://tasks.example.com"
    assert env["PORT"] == "8000"  # gunicorn's port in the container never changes
    assert services["web"]["ports"] == ["127.0.0.1:9000:8000"]


def test_mailpit_catches_the_mail_by_default():
    services = compose()["services"]
    mailpit = services["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert mailpit["ports"] == ["127.0.0.1:8025:8025"]
    assert "profiles" not in mailpit
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert (env["EMAIL_HOST"], env["EMAIL_PORT"]) == ("mailpit", "1025"), name


def test_flower_runs_only_with_the_ops_profile():
    flower = compose()["services"]["flower"]
    assert flower["profiles"] == ["ops"]
    assert flower["image"].startswith("mher/flower:")
    assert flower["environment"]["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert shlex.split(flower["command"])[:2] == ["celery", "flower"]
    assert flower["ports"] == ["127.0.0.1:5555:5555"]
    assert flower["depends_on"]["redis"]["condition"] == "service_healthy"


def test_dockerfile_is_slim_non_root_and_serves_with_gunicorn():
    text = dockerfile()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    cmd = re.search(r"^CMD (\[.*\])", text, re.M).group(1)
    assert yaml.safe_load(cmd) == procfile()["web"]
    env = dockerfile_env()
    assert env["DJANGO_SETTINGS_MODULE"] == "taskplatform.settings.prod"
    # gunicorn.conf.py listens on 127.0.0.1 unless told: in a container that is unreachable
    assert env["HOST"] == "0.0.0.0"  # noqa: S104


def test_dockerfile_collects_static_files_with_the_settings_it_runs():
    """collectstatic must write the manifest that prod's storage reads (hashed names)."""
    run = re.search(r"manage\.py collectstatic[^\n]*", dockerfile()).group(0)
    assert "--settings" not in run  # so DJANGO_SETTINGS_MODULE=...prod from ENV applies
    healthcheck = re.search(r"^HEALTHCHECK .*?\n\s+CMD (.*)$", dockerfile(), re.M | re.S)
    assert "http://127.0.0.1:%s/health/live" in healthcheck.group(1)


def test_the_procfile_starts_web_worker_beat_and_live_on_the_named_queues():
    commands = procfile()
    assert set(commands) == {"web", "worker", "beat", "live"}
    assert commands["live"] == ["python", "-m", "live"]
    assert commands["worker"][commands["worker"].index("-Q") + 1].split(",") == [
        "default",
        "notifications",
        "maintenance",
    ]
    assert commands["beat"][:4] == ["celery", "-A", "taskplatform", "beat"]


def test_gunicorn_listens_on_loopback_unless_told():
    text = (ROOT / "gunicorn.conf.py").read_text()
    assert 'os.environ.get("HOST", "127.0.0.1")' in text


def test_the_live_process_listens_on_loopback_unless_told_and_is_published_on_live_port():
    assert 'os.environ.get("HOST", "127.0.0.1")' in (ROOT / "live" / "__main__.py").read_text()
    live = compose()["services"]["live"]
    assert live["ports"] == ["127.0.0.1:8001:8001"]
    assert compose({**DOTENV, "LIVE_PORT": "9001"})["services"]["live"]["ports"] == [
        "127.0.0.1:9001:9001"
    ]
    assert "LIVE_PORT" in " ".join(live["healthcheck"]["test"])


def test_env_example_documents_every_variable_the_settings_read():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))
    read = set()
    for path in (ROOT / "taskplatform" / "settings").glob("*.py"):
        read |= set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text()))
    for path in ("gunicorn.conf.py", "live/__main__.py"):
        read |= set(re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', (ROOT / path).read_text()))
    read -= {"PROMETHEUS_MULTIPROC_DIR"}
    assert read - documented == set()
    assert {"HOST", "PORT", "FLOWER_BASIC_AUTH"} <= documented


@pytest.mark.e2e
def test_make_run_listens_on_loopback_and_prints_its_own_port():
    import subprocess

    def dry_run(*args):
        done = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return [
            line
            for line in done.stdout.splitlines()
            if "ensure_admin" in line or "supervise" in line
        ]

    assert dry_run("HOST=127.0.0.1", "PORT=9123") == [
        ".venv/bin/python manage.py ensure_admin --url http://127.0.0.1:9123",
        ".venv/bin/python -m taskplatform.supervise --port 9123",
    ]
    # every interface: still opened (and linked from emails) through loopback unless SITE_URL
    assert dry_run("HOST=0.0.0.0", "PORT=9124")[0].endswith("--url http://127.0.0.1:9124")
