"""Local development and `make run`: the embedded default, browsable API, relaxed hosts."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, SECRET_KEY, env

# Off by default so errors keep the API's envelope; DEBUG=true gives Django's debug pages.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
# `make run` serves the admin's and the API docs' static files straight from the apps (no
# collectstatic step); production images run collectstatic (Dockerfile)
WHITENOISE_USE_FINDERS = True
