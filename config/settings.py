"""Settings, all from the environment.

With nothing set, Modelgate runs on an embedded default: SQLite in ./var and a filesystem
Celery broker, so `make run` needs no server. DATABASE_URL and REDIS_URL switch to PostgreSQL
and Redis (the tests always use those).
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env

BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded default's data (SQLite, the filesystem broker). Made by `make run`
# (bin/run-local), never by importing settings.
VAR_DIR = Path(env("MODELGATE_VAR_DIR", str(BASE_DIR / "var")))


DEBUG = env("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env("MODELGATE_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production.")
    SECRET_KEY = "insecure-local-only-key-change-me"

ALLOWED_HOSTS = env("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "accounts.apps.ModelgateAdminConfig",  # django.contrib.admin on accounts.sites.AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc and Swagger UI as static files: the API docs work offline
    "guardian",
    "audit",
    "accounts",
    "registry",
    "workflows",
    "webhooks",
    "notifications",
    "ui",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.middleware.RequestIdMiddleware",
    "ops.middleware.RequestMetricsAndLogMiddleware",  # after the request id: its access line names it
    "registry.api.middleware.RefuseUnstorableTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'modelgate.sqlite3'}"),
        conn_max_age=env("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own cursors bind on the client and never prepare; the hot path's one query
    # (registry/api/hot.py) binds on the server and asks to be prepared, which psycopg
    # refuses on a connection whose threshold is None, Django's default.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "accounts.backends.PeopleOnlyModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if not (STATIC_ROOT / "staticfiles.json").exists():
    # Before collectstatic has run (dev, tests) there is no manifest: serve from the apps,
    # looked up per request (so nothing is indexed at start-up and the missing STATIC_ROOT
    # is not an error; collectstatic creates it).
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

LOGIN_URL = "ui:signin"
LOGIN_REDIRECT_URL = "ui:home"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "accounts.authentication.PasswordBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.LenientJSONParser"],
    "EXCEPTION_HANDLER": "registry.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Modelgate API",
    "DESCRIPTION": (
        "A governed model registry. Serves the MLflow model registry REST API under "
        "/api/2.0/mlflow/, and Modelgate's extensions under /api/2.0/modelgate/."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs' scripts and styles come from drf-spectacular-sidecar, served by whitenoise:
    # no CDN, so /api/docs/ renders without a network connection.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Celery. Without REDIS_URL the broker is kombu's filesystem transport: no server needed.
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A short connect timeout: a hand-off to a broker that is down fails fast (webhooks/enqueue.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": env("MODELGATE_BROKER_CONNECT_TIMEOUT", 1.0),
    }
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Worker control (broadcast) files too, instead of ./control in the working tree.
        "control_folder": str(_broker_dir / "control"),
    }
# Django's cache holds the Basic-auth memo and the sign-in failure counters and lockouts
# (accounts/signin.py), which every web process must share: Redis when REDIS_URL is set,
# else files under VAR_DIR (the embedded default; made on first use).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "modelgate"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection after every task unless this is set: a
# reconnect per webhook delivery was a tenth of a worker's time. Connections are kept as web
# requests keep them instead (config/celery.py: CONN_MAX_AGE, dropped when unusable).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"

# Registry behaviour.
# The largest request body accepted, in bytes, by the API (answered INVALID_PARAMETER_VALUE)
# and by Django itself (the admin's forms). Field limits are in registry/validators.py.
DATA_UPLOAD_MAX_MEMORY_SIZE = env("MODELGATE_MAX_REQUEST_BYTES", 2_621_440)
# Local filesystem sources (/path, file://) are refused unless this is set: a registry shared
# by a team must not point at one machine's disk.
MODELGATE_ALLOW_LOCAL_SOURCES = env("MODELGATE_ALLOW_LOCAL_SOURCES", False)
# How long a verified Basic-auth username+password is remembered (0: check every request).
MODELGATE_BASIC_AUTH_CACHE_SECONDS = env("MODELGATE_BASIC_AUTH_CACHE_SECONDS", 60)
# Failed password sign-ins (HTTP Basic, the admin login, the sign-in page): this many within
# the window lock the username, or the client address, out for the lockout (0: no limit).
MODELGATE_SIGNIN_MAX_FAILURES_PER_USER = env("MODELGATE_SIGNIN_MAX_FAILURES_PER_USER", 10)
MODELGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS = env("MODELGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS", 50)
MODELGATE_SIGNIN_FAILURE_WINDOW_SECONDS = env("MODELGATE_SIGNIN_FAILURE_WINDOW_SECONDS", 300)
MODELGATE_SIGNIN_LOCKOUT_SECONDS = env("MODELGATE_SIGNIN_LOCKOUT_SECONDS", 300)
# How long a token's last_used_at may lag, so the hot alias lookup does not write every call.
MODELGATE_TOKEN_TOUCH_SECONDS = env("MODELGATE_TOKEN_TOUCH_SECONDS", 60)

# Lineage (registry/tracking.py, registry/lineage.py): the MLflow tracking server that keeps the
# runs and logged models versions come from. Empty: no lineage is resolved. Its REST API is
# called with the token (Bearer) or the username and password (Basic), if set. Links go to
# MODELGATE_TRACKING_UI_URL (default: the tracking URI). A version's run is resolved after
# commit, retried with backoff (about MODELGATE_LINEAGE_MAX_RETRIES times, the first after
# MODELGATE_LINEAGE_RETRY_SECONDS, doubling); what pages show of a run is cached this long.
MODELGATE_TRACKING_URI = env("MODELGATE_TRACKING_URI", "")
MODELGATE_TRACKING_TOKEN = env("MODELGATE_TRACKING_TOKEN", "")
MODELGATE_TRACKING_USERNAME = env("MODELGATE_TRACKING_USERNAME", "")
MODELGATE_TRACKING_PASSWORD = env("MODELGATE_TRACKING_PASSWORD", "")
MODELGATE_TRACKING_UI_URL = env("MODELGATE_TRACKING_UI_URL", "")
MODELGATE_TRACKING_TIMEOUT = env("MODELGATE_TRACKING_TIMEOUT", 5.0)
MODELGATE_TRACKING_CACHE_SECONDS = env("MODELGATE_TRACKING_CACHE_SECONDS", 60)
MODELGATE_LINEAGE_MAX_RETRIES = env("MODELGATE_LINEAGE_MAX_RETRIES", 12)
MODELGATE_LINEAGE_RETRY_SECONDS = env("MODELGATE_LINEAGE_RETRY_SECONDS", 10.0)
# A resolution whose hand-off to Celery was lost (broker down at registration, a worker killed
# holding it) is handed off again by a beat sweep every MODELGATE_LINEAGE_SWEEP_SECONDS, once no
# hand-off or retry of it is expected for MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS.
MODELGATE_LINEAGE_SWEEP_SECONDS = env("MODELGATE_LINEAGE_SWEEP_SECONDS", 30.0)
MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS = env("MODELGATE_LINEAGE_HANDOFF_GRACE_SECONDS", 60.0)

# Logs: one JSON object a line on stderr, each with the id of the request it was written
# for (ops/logs.py); one access line a request (ops.requests). The Celery worker logs the same
# way (it keeps this configuration instead of installing its own), and so does gunicorn with
# `-c python:ops.gunicorn`.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Operations (ops/). /metrics is for registry admins' tokens and for clients whose address
# (the connecting peer, not X-Forwarded-For) is in one of these networks (comma-separated CIDRs).
MODELGATE_METRICS_ALLOWED_NETWORKS = env("MODELGATE_METRICS_ALLOWED_NETWORKS", [])
# How often beat asks a worker to write its heartbeat (reported by /ready and /metrics; stale
# after three missed beats), and whether a stale one makes /ready answer 503.
MODELGATE_WORKER_HEARTBEAT_SECONDS = env("MODELGATE_WORKER_HEARTBEAT_SECONDS", 15.0)
MODELGATE_READY_REQUIRES_WORKER = env("MODELGATE_READY_REQUIRES_WORKER", False)

# Access control (accounts/policies.py). Every authenticated user gets this level on every
# model unless it is NONE; and may create models unless MODELGATE_DEFAULT_CAN_CREATE is false.
MODELGATE_DEFAULT_LEVEL = env("MODELGATE_DEFAULT_LEVEL", "CAN_READ").upper()
MODELGATE_DEFAULT_CAN_CREATE = env("MODELGATE_DEFAULT_CAN_CREATE", True)

# Webhooks (webhooks/). A delivery that fails for a reason that may pass (timeout, connection
# error, 5xx, 408, 429) is tried again after each of these delays in turn, in seconds, each
# +-20% jitter and never sooner than the receiver's Retry-After (capped at the longest step):
# 10 attempts over ~23 h by default; after the last one the delivery is DEAD.
MODELGATE_WEBHOOK_RETRY_SCHEDULE = [
    float(seconds) for seconds in
    env("MODELGATE_WEBHOOK_RETRY_SCHEDULE", [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600])
]
MODELGATE_WEBHOOK_CONNECT_TIMEOUT = env("MODELGATE_WEBHOOK_CONNECT_TIMEOUT", 5.0)
MODELGATE_WEBHOOK_READ_TIMEOUT = env("MODELGATE_WEBHOOK_READ_TIMEOUT", 15.0)
MODELGATE_WEBHOOK_MAX_RESPONSE_BYTES = env("MODELGATE_WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024)
# A webhook is disabled (and that is recorded) after this many consecutive failed deliveries.
MODELGATE_WEBHOOK_DISABLE_AFTER = env("MODELGATE_WEBHOOK_DISABLE_AFTER", 20)
# Private, loopback and link-local destinations are refused unless inside one of these
# networks (comma-separated CIDRs), checked when connecting: e.g. an internal Jenkins.
MODELGATE_WEBHOOK_ALLOWED_NETWORKS = env("MODELGATE_WEBHOOK_ALLOWED_NETWORKS", [])
# The URL schemes a webhook may use. MLflow allows only https by default; Modelgate allows http
# too, since an internal Jenkins is often plain http. Set to "https" to refuse http.
MODELGATE_WEBHOOK_ALLOWED_SCHEMES = env("MODELGATE_WEBHOOK_ALLOWED_SCHEMES", ["https", "http"])
# Key for webhook secrets at rest (Fernet); derived from SECRET_KEY when unset.
MODELGATE_ENCRYPTION_KEY = env("MODELGATE_ENCRYPTION_KEY", "")
# How often the beat sweeper looks for deliveries whose kick was lost or whose worker's claim
# lapsed (seconds).
MODELGATE_WEBHOOK_SWEEP_SECONDS = env("MODELGATE_WEBHOOK_SWEEP_SECONDS", 5.0)
# After a hand-off to Celery fails (broker down), none is tried for this long (seconds): what
# is written meanwhile waits for the sweeper, and its delivery log says why.
MODELGATE_WEBHOOK_HANDOFF_PAUSE_SECONDS = env("MODELGATE_WEBHOOK_HANDOFF_PAUSE_SECONDS", 5.0)
# A worker's claim on a delivery it is sending (seconds), renewed while the send runs (up to 4
# leases); a killed worker's delivery goes to another within a lease and a sweep (~25 s).
MODELGATE_WEBHOOK_LEASE_SECONDS = env(
    "MODELGATE_WEBHOOK_LEASE_SECONDS", MODELGATE_WEBHOOK_CONNECT_TIMEOUT + MODELGATE_WEBHOOK_READ_TIMEOUT
)
# Jenkins: how often and how long to follow a queued build to its result.
MODELGATE_JENKINS_POLL_SECONDS = env("MODELGATE_JENKINS_POLL_SECONDS", 5.0)
MODELGATE_JENKINS_FOLLOW_SECONDS = env("MODELGATE_JENKINS_FOLLOW_SECONDS", 6 * 3600)

# The activity log's signed checkpoints (audit/actions.py checkpoint_create). The signing key
# is an Ed25519 private key file kept out of the database (without one, a key derived from
# SECRET_KEY); every checkpoint is also appended to a file and, if set, POSTed to a URL, both
# out of reach of the database's administrators. verify_activity checks the log against them.
MODELGATE_ACTIVITY_SIGNING_KEY = env("MODELGATE_ACTIVITY_SIGNING_KEY", "")
MODELGATE_ACTIVITY_CHECKPOINT_FILE = env("MODELGATE_ACTIVITY_CHECKPOINT_FILE", str(VAR_DIR / "activity-checkpoints.jsonl"))
MODELGATE_ACTIVITY_CHECKPOINT_URL = env("MODELGATE_ACTIVITY_CHECKPOINT_URL", "")
MODELGATE_ACTIVITY_CHECKPOINT_SECONDS = env("MODELGATE_ACTIVITY_CHECKPOINT_SECONDS", 60.0)

# Email (notifications): Django's own settings, read from the environment under their own names.
# `make run` sets EMAIL_BACKEND to the console backend (messages in the worker's output).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env("EMAIL_USE_TLS", False)
# A send that hangs holds a worker: give up after this many seconds (and retry later).
EMAIL_TIMEOUT = env("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "modelgate@localhost")
# Links in emails are absolute: where people reach this server's pages.
MODELGATE_PUBLIC_URL = env("MODELGATE_PUBLIC_URL", "http://127.0.0.1:8000")
# A failed send is retried after each of these seconds (+-20%), then given up (DEAD).
MODELGATE_NOTIFY_RETRY_SCHEDULE = [
    float(seconds) for seconds in
    env("MODELGATE_NOTIFY_RETRY_SCHEDULE", [10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600])
]
MODELGATE_NOTIFY_SWEEP_SECONDS = env("MODELGATE_NOTIFY_SWEEP_SECONDS", 10.0)
# A digest goes out when a person's oldest waiting notice is this old: at most one a day.
MODELGATE_NOTIFY_DIGEST_SECONDS = env("MODELGATE_NOTIFY_DIGEST_SECONDS", 86400.0)
# A worker that claimed an email and died: after this the sweeper hands it on (> EMAIL_TIMEOUT).
MODELGATE_NOTIFY_LEASE_SECONDS = env("MODELGATE_NOTIFY_LEASE_SECONDS", 120.0)

CELERY_BEAT_SCHEDULE = {
    "sweep-notifications": {
        "task": "notifications.tasks.sweep_notifications",
        "schedule": MODELGATE_NOTIFY_SWEEP_SECONDS,
    },
    "sweep-webhook-deliveries": {
        "task": "webhooks.tasks.sweep_deliveries",
        "schedule": MODELGATE_WEBHOOK_SWEEP_SECONDS,
    },
    # Pending requests whose version moved or was deleted are closed by the system.
    "checkpoint-activity-log": {
        "task": "audit.tasks.checkpoint_activity",
        "schedule": MODELGATE_ACTIVITY_CHECKPOINT_SECONDS,
    },
    "sweep-lineage-resolutions": {
        "task": "registry.tasks.sweep_lineage",
        "schedule": MODELGATE_LINEAGE_SWEEP_SECONDS,
    },
    "worker-heartbeat": {
        "task": "ops.tasks.worker_heartbeat",
        "schedule": MODELGATE_WORKER_HEARTBEAT_SECONDS,
    },
    "close-stale-transition-requests": {
        "task": "workflows.tasks.close_stale_requests",
        "schedule": env("MODELGATE_STALE_REQUEST_SWEEP_SECONDS", 60.0),
    },
}
