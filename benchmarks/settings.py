"""Settings for benchmark servers: the dev settings plus baseline views and no limits in the way."""

from taskplatform.settings.dev import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
DEBUG = False
FILES_MAX_UPLOAD_BYTES = 2 * 1024**3
FILES_USER_QUOTA_BYTES = 0
RATELIMIT_ENABLE = False
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["taskplatform.request"] = {"level": "WARNING"}  # noqa: F405
