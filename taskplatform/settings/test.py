"""pytest: PostgreSQL / Redis when DATABASE_URL / REDIS_URL are set (CI), else embedded."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import EMBEDDED_BROKER, REDIS_URL, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-secret-key-long-enough-for-hs256-signing-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# tests run tasks inline; a beat or worker process started by a test sets this to false
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# real-worker tests run workers in threads: let Celery close their DB connections after
# each task, or the test database can't be dropped at the end
CELERY_DB_REUSE_MAX = None
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "test-media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # a file, not memory: threads of real-worker tests then share it through WAL and the
    # busy timeout instead of failing on shared-cache table locks
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
if EMBEDDED_BROKER:
    # not make run's broker: a worker of each would take the other's messages
    BROKER_DB = VAR_DIR / "test-broker.sqlite3"
    CELERY_BROKER_URL = f"sqlite:///{BROKER_DB}"
if not REDIS_URL:
    # a fixed folder, so a second process in a test shares the counters
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "test-cache"),
        }
    }
# generous, so tests don't trip over each other; rate-limit tests lower them
RATELIMITS = {
    "auth": env.str("RATELIMIT_AUTH", default="1000/m"),
    "login_ip": env.str("RATELIMIT_LOGIN_IP", default="1000/m"),
    "login_email": env.str("RATELIMIT_LOGIN_EMAIL", default="1000/m"),
    "account_mail_email": env.str("RATELIMIT_ACCOUNT_MAIL_EMAIL", default="1000/m"),
    "account_mail_ip": env.str("RATELIMIT_ACCOUNT_MAIL_IP", default="1000/m"),
    "account_token": env.str("RATELIMIT_ACCOUNT_TOKEN", default="1000/m"),
    "api": env.str("RATELIMIT_API", default="10000/m"),
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
