"""Dockerfile and docker-compose.yml stay in step with the Procfile (Docker can't run here)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name.strip(): shlex.split(command)
        for name, command in (line.split(":", 1) for line in lines if line.strip())
    }


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_procfile_commands():
    services = compose()["services"]
    for name, command in procfile().items():
        assert shlex.split(services[name]["command"]) == command, name


def test_compose_has_the_whole_stack_with_real_services():
    services = compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "taskplatform.settings.prod"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_dockerfile_is_slim_non_root_and_serves_with_gunicorn():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    cmd = re.search(r"^CMD (\[.*\])", text, re.M).group(1)
    assert yaml.safe_load(cmd) == procfile()["web"]
    assert "DJANGO_SETTINGS_MODULE=taskplatform.settings.prod" in text


def test_the_procfile_starts_web_worker_and_beat_on_the_named_queues():
    commands = procfile()
    assert set(commands) == {"web", "worker", "beat"}
    assert commands["worker"][commands["worker"].index("-Q") + 1].split(",") == [
        "default",
        "notifications",
        "maintenance",
    ]
    assert commands["beat"][:4] == ["celery", "-A", "taskplatform", "beat"]


def test_env_example_documents_every_variable_the_settings_read():
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    read = set()
    for path in (ROOT / "taskplatform" / "settings").glob("*.py"):
        read |= set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text()))
    read |= set(
        re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text())
    )
    read -= {"PROMETHEUS_MULTIPROC_DIR"}
    assert read - documented == set()
