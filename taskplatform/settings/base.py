"""Every setting lives here and is read from the environment (12-factor).

Unset variables give the embedded setup: SQLite, a file-based Celery broker, a file cache,
emails written to files and uploads in a local folder, all under ``var/``. Setting
``DATABASE_URL`` / ``REDIS_URL`` switches to PostgreSQL and Redis.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies append to X-Forwarded-For in front of us (0: trust REMOTE_ADDR).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

INSTALLED_APPS = [
    "operations.admin_config.PlatformAdminConfig",  # django.contrib.admin + dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_ratelimit",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "taskplatform",
    "accounts",
    "audit",
    "files",
    "tasks",
    "jobs",
    "notifications",
    "digests",
    "meetings",
    "live",
    "operations",
    "web",
]

MIDDLEWARE = [
    # /health/live and /health/ready, before anything reads the Host header
    "taskplatform.health.ProbeMiddleware",
    "taskplatform.middleware.RequestContextMiddleware",
    "taskplatform.metrics.MetricsMiddleware",
    # CORS before anything that may answer on its own (an https redirect, static files)
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "taskplatform.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # X-RateLimit-* from the throttles a DRF view ran (taskplatform/api/throttling.py)
    "taskplatform.api.throttling.RateLimitHeadersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "taskplatform.urls"
WSGI_APPLICATION = "taskplatform.wsgi.application"
# the live process (uvicorn, Procfile `live:`): /ws/ over Channels
ASGI_APPLICATION = "taskplatform.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# the web app's sign-in page (the admin has its own)
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "live.context.live_settings",
                "web.context.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# (an empty variable counts as unset, so a copied .env.example keeps the defaults)
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # web, worker and beat write at once: WAL lets readers run beside the writer, and
    # IMMEDIATE transactions take the write lock up front, so a transaction never fails
    # half-way with "database is locked" when it upgrades from read to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Redis: cache, rate-limit store and Celery broker ----------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    # Files are shared by web, worker and beat on one machine (locmem would not be).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # django-ratelimit prefers a cache with atomic increments; on the single-machine
    # embedded setup a rare lost increment under contention is an accepted trade.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=7 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 0,
}
# how long the cache serves a signed-in user's row; every save of the user forgets it at once
AUTH_USER_CACHE_SECONDS = 300

# --- DRF + OpenAPI --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, with the user row read through the cache (accounts/authentication.py)
        "accounts.authentication.CachedJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["taskplatform.api.throttling.ApiRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, plus: nesting depth, infinite numbers, lone surrogates and size are 400/413
        "taskplatform.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "taskplatform.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "taskplatform.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "taskplatform API",
    "DESCRIPTION": "Tasks, files, scheduled jobs and notifications. Errors share one envelope.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # tags (and operation ids) from the path after /api/v1/: "jobs", "tasks", "admin", …
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tasks.models.Task.Status",
        "NotificationStatusEnum": "notifications.models.Notification.Status",
        "JobStatusEnum": "jobs.models.Job.Status",
        "JobRunStatusEnum": "jobs.models.JobRun.Status",
        "MeetingStatusEnum": "meetings.models.Meeting.Status",
        "MeetingTypeEnum": "meetings.models.Meeting.Type",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "taskplatform.api.schema.add_error_responses",
    ],
}

# --- Rate limits (django-ratelimit counters in the shared cache) -----------------------------
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMITS = {
    # register: per client IP and per email; login: per (client IP, email) pair — the lockout
    "auth": env.str("RATELIMIT_AUTH", default="10/m"),
    # login per client IP alone (many accounts from one host; people behind one NAT)
    "login_ip": env.str("RATELIMIT_LOGIN_IP", default="60/m"),
    # login per email alone, from any address: far above the pair's limit, so a guesser
    # can't lock the owner out from their own address
    "login_email": env.str("RATELIMIT_LOGIN_EMAIL", default="100/h"),
    # account mail asked for (register, verification resend, password reset): per address
    # mailed, one counter for every flow, and resend / reset per client IP
    "account_mail_email": env.str("RATELIMIT_ACCOUNT_MAIL_EMAIL", default="5/h"),
    "account_mail_ip": env.str("RATELIMIT_ACCOUNT_MAIL_IP", default="30/h"),
    # emailed tokens presented (verify an address, confirm a reset): per client IP
    "account_token": env.str("RATELIMIT_ACCOUNT_TOKEN", default="30/m"),
    # every other API call: per user, or per IP when anonymous
    "api": env.str("RATELIMIT_API", default="300/m"),
}

# --- CORS (django-cors-headers) --------------------------------------------------------------
# Origins whose pages may call the API from a browser (`https://app.example.com`, comma
# separated); empty: no cross-origin calls. Only /api/: the admin and the pages use cookies.
# A value without its scheme fails the system checks (corsheaders.E013).
CORS_ALLOWED_ORIGINS = [
    origin.strip() for origin in env.list("CORS_ALLOWED_ORIGINS", default=[]) if origin.strip()
]
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-request-id")
CORS_EXPOSE_HEADERS = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-ID",
]

# --- Celery ---------------------------------------------------------------------------------
# Without Redis the broker is kombu's SQLAlchemy transport on an SQLite file beside the
# database (taskplatform/embedded_broker.py): a consumer never reads half a message, and the
# queues survive a restart. benchmarks/embedded_broker.py measures it against Redis.
BROKER_DB = VAR_DIR / "broker.sqlite3"
CELERY_BROKER_URL = (
    env.str("CELERY_BROKER_URL", default="") or REDIS_URL or f"sqlite:///{BROKER_DB}"
)
EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("sqlite:")
# how soon the embedded broker's consumer looks again when it found nothing it may take
CELERY_BROKER_POLLING_INTERVAL = env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if not EMBEDDED_BROKER:
    # Longer than any task's hard time limit, so Redis never redelivers a running task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per pool process; the embedded broker is polled, so there the worker
# takes a few ahead rather than wait a poll for each (a message taken by a worker that is then
# killed is re-sent by the jobs' and notifications' sweepers, as on Redis)
CELERY_WORKER_PREFETCH_MULTIPLIER = 4 if EMBEDDED_BROKER else 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery's Django fixup closes DB connections around every task unless this is set, and
# reconnecting to PostgreSQL cost ~10 ms a task (benchmarks/email_delivery.py); with it, Django's
# CONN_MAX_AGE and CONN_HEALTH_CHECKS decide, as in the web process.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "jobs.beat:DispatchingScheduler"
CELERY_TASK_ALWAYS_EAGER = False

# Worker and beat report they are alive through the cache; /health/ready reads it.
HEARTBEAT_INTERVAL = env.int("HEARTBEAT_INTERVAL", default=15)
# beat sends a periodic task only when the last one it sent has started, or this long after
# (a message lost or discarded as expired): taskplatform/beat.py
BEAT_PENDING_TIMEOUT = env.int("BEAT_PENDING_TIMEOUT", default=120)
HEARTBEAT_MAX_AGE = env.int("HEARTBEAT_MAX_AGE", default=60)

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="taskplatform <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ADMINS = [("Operators", a) for a in env.list("ADMINS", default=[])]
EMAIL_HOST = env.str("EMAIL_HOST", default="")
SENDGRID_API_KEY = env.str("SENDGRID_API_KEY", default="")
if SENDGRID_API_KEY:
    _email_backend = "anymail.backends.sendgrid.EmailBackend"
elif EMAIL_HOST:
    _email_backend = "django.core.mail.backends.smtp.EmailBackend"
else:
    # the embedded default: one file per email in var/mail/, a line in the console, and the
    # mailbox page (notifications/mailbox.py)
    _email_backend = "notifications.mailbox.MailboxBackend"
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or _email_backend
EMBEDDED_MAIL = EMAIL_BACKEND == "notifications.mailbox.MailboxBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
# STARTTLS on a plain connection (port 587), or TLS from the first byte (SMTPS, port 465):
# one or the other, never both (Django refuses the pair)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "Set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL (port 465), not both."
    )
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="") or "taskplatform.local"
SITE_NAME = env.str("SITE_NAME", default="taskplatform")
# Public address of the web app, for links in emails
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=1800)
# the sweeper re-sends rows whose sender message went out this long ago without a sender
# taking them (the broker lost it)...
NOTIFICATIONS_REQUEUE_AFTER_SECONDS = env.int("NOTIFICATIONS_REQUEUE_AFTER_SECONDS", default=60)
# ...and frees rows claimed this long ago by a sender that died mid-batch (a sender task is
# killed at its hard time limit, so a claim older than that has no live sender; the same
# message redelivered after a kill takes its rows back at once)
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env.int(
    "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)
# a sender sends batch after batch this long, then hands over to a fresh message (the
# worker's other queues get their turn): notifications/sending.py
NOTIFICATIONS_SENDER_SLICE_SECONDS = env.int("NOTIFICATIONS_SENDER_SLICE_SECONDS", default=10)
# while the mail server can't be reached, rows wait without spending attempts, this long
NOTIFICATIONS_GIVE_UP_AFTER_HOURS = env.int("NOTIFICATIONS_GIVE_UP_AFTER_HOURS", default=72)
# Emails one user may be sent in any hour (0: no limit). Mails past it are not sent; one
# summary at the end of that clock hour counts them. Account mails (verification, password
# reset) don't count.
NOTIFICATIONS_PER_USER_PER_HOUR = env.int("NOTIFICATIONS_PER_USER_PER_HOUR", default=30)
ANYMAIL = {
    "SENDGRID_API_KEY": SENDGRID_API_KEY,
    # "user:password" that the provider's webhook must send (HTTP basic auth)
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or None,
}

# --- Files ----------------------------------------------------------------------------------
MEDIA_ROOT = str(VAR_DIR / "media")
MEDIA_URL = "/media/"
# collectstatic's output is part of the build, not data: outside var/, so a volume mounted
# on var/ (or var/media) never hides the files the image collected
STATIC_ROOT = env.str("STATIC_ROOT", default="") or str(BASE_DIR / "staticfiles")
STATIC_URL = "/static/"
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="") or "local"  # local | s3
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "location": env.str("S3_PREFIX", default=""),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}")
STORAGES: dict[str, dict[str, Any]] = {
    "default": _default_storage,
    # hashed names (long-cached, never stale) from the manifest collectstatic writes; dev
    # serves from the apps without collectstatic and overrides this
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads stream to a temporary file here: inside MEDIA_ROOT, so on the same disk (or the
# same Docker volume) and a local save is a rename, not a copy
FILE_UPLOAD_TEMP_DIR = str(Path(MEDIA_ROOT) / ".tmp")
FILES_MAX_UPLOAD_BYTES = env.int("FILES_MAX_UPLOAD_BYTES", default=100 * 1024**2)
# Total bytes one user may store; 0 means no quota.
FILES_USER_QUOTA_BYTES = env.int("FILES_USER_QUOTA_BYTES", default=1024**3)
# Sniffed content types accepted; empty accepts every type.
FILES_ALLOWED_CONTENT_TYPES = env.list("FILES_ALLOWED_CONTENT_TYPES", default=[])

# --- Accounts -------------------------------------------------------------------------------
# Self-registered accounts prove their address before anything but the verification email
# goes to it; their other mail is held, and dropped when still held after this many days.
ACCOUNTS_REQUIRE_EMAIL_VERIFICATION = env.bool("ACCOUNTS_REQUIRE_EMAIL_VERIFICATION", default=True)
ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS = env.int("ACCOUNTS_HOLD_UNVERIFIED_MAIL_DAYS", default=7)
# how long the links in verification and password-reset emails work
ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS = env.int(
    "ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS", default=3 * 24 * 3600
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

# --- Tasks ----------------------------------------------------------------------------------
# a task gets its one "due soon" email when its due date is this close
TASKS_DUE_SOON_HOURS = env.int("TASKS_DUE_SOON_HOURS", default=24)
# at most one "assigned to you" email per (assigner, assignee) in this many seconds: toggling
# an assignee (or assigning many tasks) sends one mail, not one per change
TASKS_ASSIGNMENT_MAIL_WINDOW_SECONDS = env.int("TASKS_ASSIGNMENT_MAIL_WINDOW_SECONDS", default=600)

# --- Jobs -----------------------------------------------------------------------------------
# due jobs one dispatcher transaction claims (a tick loops until none are due)
JOBS_DISPATCH_BATCH = env.int("JOBS_DISPATCH_BATCH", default=500)
# beat dispatches at each job's due time; it re-reads the next due time this often, which
# bounds how late a job made due sooner than that (created, edited) can be
JOBS_DISPATCH_POLL_SECONDS = env.float("JOBS_DISPATCH_POLL_SECONDS", default=0.5)
# beat claims jobs this long before their time and writes their runs, so that at the time
# only the messages are left to send (1,667 jobs due together take ~0.4 s to claim)
JOBS_DISPATCH_LEAD_SECONDS = env.float("JOBS_DISPATCH_LEAD_SECONDS", default=1.0)
# other work beat's dispatcher sends at its exact time (modules with due_next / due_run)
BEAT_DUE_SOURCES = ["meetings.reminders"]
# due runs of a quick kind (reminders) one worker message carries, run one after the other
JOBS_RUNS_PER_MESSAGE = env.int("JOBS_RUNS_PER_MESSAGE", default=20)
# after this many failed runs in a row a job pauses itself and its owner is told
JOBS_MAX_CONSECUTIVE_FAILURES = env.int("JOBS_MAX_CONSECUTIVE_FAILURES", default=10)
# retry back-off: base * 2^(attempt-1) seconds (+-20 % jitter), capped
JOBS_RETRY_BASE_SECONDS = env.int("JOBS_RETRY_BASE_SECONDS", default=30)
JOBS_RETRY_MAX_SECONDS = env.int("JOBS_RETRY_MAX_SECONDS", default=3600)
# soft time limit of a run for kinds that don't set their own (the hard one is 30 s later)
JOBS_RUN_TIME_LIMIT = env.int("JOBS_RUN_TIME_LIMIT", default=300)
# a queued run whose message was sent this long ago without a worker taking it is re-sent
JOBS_REQUEUE_AFTER_SECONDS = env.int("JOBS_REQUEUE_AFTER_SECONDS", default=300)
# highest max_retries a job may ask for
JOBS_MAX_RETRIES = env.int("JOBS_MAX_RETRIES", default=10)
# Quotas per user (0: none): jobs not paused or finished, and the shortest time between two
# runs of a job that sends email (reminder, task_digest)
JOBS_MAX_ACTIVE_PER_USER = env.int("JOBS_MAX_ACTIVE_PER_USER", default=50)
JOBS_MIN_MAILING_INTERVAL_SECONDS = env.int("JOBS_MIN_MAILING_INTERVAL_SECONDS", default=600)

# --- Live updates (the live process: /ws/, docs/live.md) -----------------------------------
# where it listens (Procfile `live:`; HOST as the web process)
LIVE_PORT = env.int("LIVE_PORT", default=8001)
# the address pages connect to (wss://tasks.example.com/ws/ behind a proxy that routes /ws/
# to the live process); empty: ws(s)://<the page's host>:LIVE_PORT/ws/
LIVE_WS_URL = env.str("LIVE_WS_URL", default="")
# events are kept this long for clients that reconnect (older: the client reloads)
LIVE_RETENTION_HOURS = env.int("LIVE_RETENTION_HOURS", default=24)
# missed events a reconnecting client is sent at most (more: it reloads instead)
LIVE_REPLAY_MAX = env.int("LIVE_REPLAY_MAX", default=500)
# without Redis the live process reads new events from the database this often
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=0.1)
# with Redis it reads them this often too, for events whose push failed (live/poller.py)
LIVE_CATCHUP_SECONDS = env.float("LIVE_CATCHUP_SECONDS", default=2.0)
if REDIS_URL:
    # pub/sub: one PUBLISH a group reaches every live process (live/pushing.py). Pub/sub
    # channels are server-wide, not per Redis database: the prefix names the database, so
    # two deployments (or test runs) on one Redis don't hear each other
    _redis_db = REDIS_URL.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"taskplatform.live.db{_redis_db if _redis_db.isdigit() else 0}.",
            },
        }
    }
else:
    # one live process, whose database poller hands new events to its connections
    # (live/poller.py); nothing crosses processes
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Operations -----------------------------------------------------------------------------
# retention of `manage.py prune` (and the daily prune at 02:00), in days
PRUNE_RUNS_DAYS = env.int("PRUNE_RUNS_DAYS", default=90)
PRUNE_NOTIFICATIONS_DAYS = env.int("PRUNE_NOTIFICATIONS_DAYS", default=90)
PRUNE_TOKENS_DAYS = env.int("PRUNE_TOKENS_DAYS", default=7)
# health watch (every 5 minutes; emails ADMINS when the verdict changes)
WATCH_BACKLOG_SECONDS = env.int("WATCH_BACKLOG_SECONDS", default=600)
WATCH_FAILED_RATE = env.float("WATCH_FAILED_RATE", default=0.2)
WATCH_MIN_RUNS = env.int("WATCH_MIN_RUNS", default=20)

# --- Security headers and metrics access ------------------------------------------------------
# Content-Security-Policy (django-csp, through taskplatform.middleware): every response gets
# the strict policy — API JSON, downloads and static files load nothing and can't be framed —
# except the HTML pages under CONTENT_SECURITY_POLICY_PAGES' prefixes (the admin, the API
# docs), which may load their own scripts, styles and images and nothing from elsewhere
# (but ReDoc's hard-coded logo: taskplatform/api/docs.py).
# No inline script runs anywhere (Swagger UI's init script is served as a file); inline
# styles are allowed on pages (the dashboard's <style>, Swagger UI's, ReDoc's runtime CSS).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}
CONTENT_SECURITY_POLICY_PAGES: dict[str, Any] = {
    "URL_PREFIXES": ["/admin/", "/api/docs/", "/api/redoc/", "/app/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc's search runs in a blob: worker
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# GET /metrics answers a request that brings `Authorization: Bearer <METRICS_TOKEN>` (when
# set) or comes from one of METRICS_ALLOWED_NETWORKS (the client address, after NUM_PROXIES
# hops of X-Forwarded-For); others get 403. Empty networks: the token only.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: JSON lines with the request id ------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # json | text
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "taskplatform.logging.RequestContextFilter"},
        "quiet_ticks": {"()": "taskplatform.logging.QuietTicksFilter"},
        "not_an_outage": {"()": "taskplatform.logging.NotAnOutageFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "quiet_ticks"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["request_context", "not_an_outage"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        # a request with a Host outside ALLOWED_HOSTS (scanners, all day long) is logged, not
        # mailed to ADMINS from inside the request (a slow mail server would hold the worker)
        "django.security.DisallowedHost": {
            "handlers": ["console"],
            "level": "ERROR",
            "propagate": False,
        },
        # our request log replaces gunicorn's / runserver's access lines
        "django.server": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Folders of the embedded backends --------------------------------------------------------
_embedded_dirs = [VAR_DIR, Path(STATIC_ROOT), Path(FILE_UPLOAD_TEMP_DIR)]
if not REDIS_URL:
    _embedded_dirs.append(VAR_DIR / "cache")
if EMBEDDED_MAIL:
    _embedded_dirs.append(VAR_DIR / "mail")
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    _embedded_dirs.append(VAR_DIR / "media")
for _folder in _embedded_dirs:
    _folder.mkdir(parents=True, exist_ok=True)
