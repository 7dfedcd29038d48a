"""Local development and `make run`: the embedded default, browsable API, relaxed hosts."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, SECRET_KEY, STORAGES, VAR_DIR, env


def secret_key_file(path: Path) -> str:
    """The key in `path`, made on first use: random, readable by the owner only.

    web, worker and beat start at once and must agree on it (it signs sessions and JWTs), so
    the file appears complete or not at all: written under a temporary name, then hard-linked
    into place, which fails if another process got there first — its key is then the one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(64) + "\n")
            with contextlib.suppress(FileExistsError):  # another process's key won
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable key: delete it to get a new one.")
    return key


# Off by default so errors keep the API's envelope; DEBUG=true gives Django's debug pages.
DEBUG = env.bool("DEBUG", default=False)
# Never a committed key: anyone who knows it can sign an admin's JWT.
SECRET_KEY = SECRET_KEY or secret_key_file(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
# `make run` serves the admin's and the API docs' static files straight from the apps (no
# collectstatic step, so no manifest of hashed names); production images run collectstatic
# (Dockerfile)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
