"""Flowcast settings: one module, every deploy knob read from the environment.

Safe by default: DEBUG is off unless asked for, and outside DEBUG a SECRET_KEY and a
FLOWCAST_SECRETS_KEY must be given. `.env.example` lists every variable read here.
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config import event_stream, log_setup, recipients, rest_api, sign_in
from config.environment import env_bool, env_int, env_list
from config.page_templates import console_templates
from config.system_ticks import SYSTEM_TICKS

BASE_DIR = Path(__file__).resolve().parent.parent


# --- Core --------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off "
            "(for local work, DEBUG=true uses a throwaway development key)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

# Channel secrets and provider credentials are stored encrypted with these keys
# (Fernet; comma-separated: the first encrypts, every one decrypts, so a key is
# replaced by putting the new one first and running `manage.py reseal_secrets`).
FLOWCAST_SECRETS_KEYS = env_list("FLOWCAST_SECRETS_KEY", [])
if not FLOWCAST_SECRETS_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FLOWCAST_SECRETS_KEY must be set when DEBUG is off: it encrypts channel "
            "secrets and provider credentials. Make one with: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    # A development key follows from the development SECRET_KEY.
    FLOWCAST_SECRETS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"flowcast-secrets:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
for _number, _key in enumerate(FLOWCAST_SECRETS_KEYS, start=1):
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            f"FLOWCAST_SECRETS_KEY: key {_number} is not a Fernet key (32 bytes in "
            "URL-safe base64, 44 characters); make one with Fernet.generate_key()."
        ) from None

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Apps and middleware -----------------------------------------------------------
INSTALLED_APPS = [
    "console.views.apps.ConsoleAdminConfig",  # Django's admin, its index the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "stream",
    "audiences",
    "flows",
    "messaging",
    "campaigns",
    "api",
    "base",  # the app labelled "console": audit trail, roles, heartbeats
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "base.middleware.AuditActorMiddleware",
    "base.clock.OperatorClockMiddleware",  # each operator's time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

# --- Sign-in: trusted proxies and lockouts (read and explained in config.sign_in) --
FLOWCAST_TRUSTED_PROXIES = sign_in.FLOWCAST_TRUSTED_PROXIES
AUTHENTICATION_BACKENDS = sign_in.AUTHENTICATION_BACKENDS
AXES_FAILURE_LIMIT = sign_in.AXES_FAILURE_LIMIT
AXES_COOLOFF_TIME = sign_in.AXES_COOLOFF_TIME
AXES_LOCKOUT_PARAMETERS = sign_in.AXES_LOCKOUT_PARAMETERS
AXES_RESET_ON_SUCCESS = sign_in.AXES_RESET_ON_SUCCESS
AXES_CLIENT_IP_CALLABLE = sign_in.AXES_CLIENT_IP_CALLABLE
AXES_LOCKOUT_TEMPLATE = sign_in.AXES_LOCKOUT_TEMPLATE

# --- The REST API (read and explained in config.rest_api) -------------------------
REST_FRAMEWORK = rest_api.REST_FRAMEWORK
SPECTACULAR_SETTINGS = rest_api.SPECTACULAR_SETTINGS
API_BULK_MAX = rest_api.API_BULK_MAX
API_PAGE_MAX = rest_api.API_PAGE_MAX
API_IDEMPOTENCY_HOURS = rest_api.API_IDEMPOTENCY_HOURS

ROOT_URLCONF = "console.views.urls"
FORMAT_MODULE_PATH = ["config.formats"]
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [console_templates(BASE_DIR / "templates")]

# --- Database ----------------------------------------------------------------------
# Default: a SQLite file next to manage.py, so a fresh machine needs no server. Web,
# worker and beat write to it at once, hence WAL, a busy timeout and IMMEDIATE
# transactions (a deferred transaction that later writes cannot wait for the lock).
VAR_DIR = Path(os.environ.get("FLOWCAST_VAR_DIR", BASE_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# --- Internationalisation and time -------------------------------------------------
LANGUAGE_CODE = "en-us"
# Campaign schedules (daily at 09:00, ...) are read in this zone.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production) ---------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The host a client called, as a trusted proxy reports it: Twilio signs the URL it
# called, and a proxy that passes its upstream's name as Host says it here.
USE_X_FORWARDED_HOST = env_bool(
    "USE_X_FORWARDED_HOST", default=FLOWCAST_TRUSTED_PROXIES > 0
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Celery and beat ---------------------------------------------------------------
# Default broker: kombu's filesystem transport, which needs no server. Its folders must
# exist and the control folder must be absolute (kombu's default is relative to the
# working directory, so worker and beat would not see each other's control messages).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    for _folder in (_queue_dir / "processed", _queue_dir / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # A task that is not acknowledged within this time is handed to another worker; it
    # must exceed the longest task (see CELERY_TASK_TIME_LIMIT).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection around every task unless told to reuse it:
# a new PostgreSQL connection per send task (a new server process, its caches cold)
# cost more than sending the task's messages. Reused connections are still closed
# when broken or older than CONN_MAX_AGE (config/celery.py, before each task).
CELERY_DB_REUSE_MAX = 100
# A task running longer is killed (hard limit) after being asked to stop (soft limit).
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = max(
    CELERY_TASK_TIME_LIMIT - 60, CELERY_TASK_TIME_LIMIT * 9 // 10
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's database scheduler, with a heartbeat for the dashboard.
CELERY_BEAT_SCHEDULER = "base.beat:HeartbeatScheduler"
# The system's own ticks (config/system_ticks.py): code-owned, upserted by name when
# beat starts.
CELERY_BEAT_SCHEDULE = SYSTEM_TICKS

# --- Messaging ---------------------------------------------------------------------
# One backend per channel kind, in the style of EMAIL_BACKEND. A channel whose kind has
# no backend here cannot be saved.
MESSAGING_BACKENDS = {
    "console": "messaging.backends.console.ConsoleBackend",
    "email": "messaging.backends.email.EmailBackend",
    "webhook": "messaging.backends.webhook.WebhookBackend",
    "sms": "messaging.backends.twilio.TwilioBackend",
    "whatsapp": "messaging.backends.twilio.TwilioBackend",
}
# Rate limits are shared by all workers through Redis: the broker's, unless this says
# otherwise; without Redis they hold per worker process.
MESSAGING_REDIS_URL = os.environ.get(
    "MESSAGING_REDIS_URL",
    CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else "",
)
# Django's cache (the API's write counts per key): in that Redis, if any.
CACHES = rest_api.caches(MESSAGING_REDIS_URL)
API_WRITES_PER_MINUTE = rest_api.API_WRITES_PER_MINUTE
# Hosts, addresses and networks (comma-separated: localhost,127.0.0.1,10.0.0.0/8)
# that Flowcast's own requests may reach although they are inside: loopback,
# private, link-local ... (base.outbound). Empty by default; for development and
# tests, whose receivers listen on this machine.
MESSAGING_OUTBOUND_ALLOW = env_list("MESSAGING_OUTBOUND_ALLOW", [])
# Providers that do not answer within this many seconds are tried again later.
MESSAGING_HTTP_TIMEOUT = float(os.environ.get("MESSAGING_HTTP_TIMEOUT", "10"))
# Requests in flight on one channel, across all workers, unless the channel's own
# max_in_flight setting says otherwise (messaging.inflight).
MESSAGING_MAX_IN_FLIGHT = env_int("MESSAGING_MAX_IN_FLIGHT", 50)
# Messages one worker process keeps in flight at most, all channels together.
MESSAGING_WORKER_IN_FLIGHT = env_int("MESSAGING_WORKER_IN_FLIGHT", 200)
MESSAGING_EMAIL_DOMAIN = os.environ.get("MESSAGING_EMAIL_DOMAIN", "flowcast.local")
# Email channels send through this SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "").lower() in ("1", "true", "yes")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "flowcast@localhost")
# Replies that opt a contact out, compared without case, spaces or punctuation;
# MESSAGING_STOP_KEYWORDS adds more, separated by commas.
MESSAGING_STOP_KEYWORDS = sorted(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
    | {
        word.strip().upper()
        for word in os.environ.get("MESSAGING_STOP_KEYWORDS", "").split(",")
        if word.strip()
    }
)
# After a webhook channel's signing secret is rotated, the previous one is still
# accepted on its hooks, and still signs its posts beside the new one, this long.
MESSAGING_SECRET_OVERLAP_HOURS = env_int("MESSAGING_SECRET_OVERLAP_HOURS", 24)
# Where providers reach this installation (delivery receipts, replies), e.g.
# https://flowcast.example.com; empty: no status callbacks are requested. Marketing
# emails' unsubscribe links point here too (empty: http://localhost:8000).
FLOWCAST_PUBLIC_URL = os.environ.get("FLOWCAST_PUBLIC_URL", "")
# The media library (messaging.media): uploaded images are kept here and served at
# MEDIA_URL<token>/<filename> by Flowcast itself, DEBUG or not (providers fetch them
# from FLOWCAST_PUBLIC_URL). One image may be at most MEDIA_MAX_BYTES.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 5 * 1024 * 1024)
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com")
# Messages handed to one dispatch task.
MESSAGING_DISPATCH_CHUNK = env_int("MESSAGING_DISPATCH_CHUNK", 2000)
# A claimed message whose worker has not reported back within this time is given
# back; it must outlast the send task's hard time limit.
MESSAGING_LEASE_SECONDS = env_int("MESSAGING_LEASE_SECONDS", 900)
MESSAGING_MAX_ATTEMPTS = env_int("MESSAGING_MAX_ATTEMPTS", 5)
# Finished messages older than this many days are deleted (their counts stay on their
# run); 0 keeps them for ever.
MESSAGING_RETENTION_DAYS = env_int("MESSAGING_RETENTION_DAYS", 90)
# Behavioural events (/api/events) older than this many days are deleted; event flows
# count occurrences among the events kept. 0 keeps them for ever.
EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 90)
# A send task that has been sending this long hands the rest of its chunk to a new
# task (slow providers, tight rate limits), well inside the task's time limit.
MESSAGING_TASK_BUDGET_SECONDS = env_int(
    "MESSAGING_TASK_BUDGET_SECONDS", CELERY_TASK_TIME_LIMIT // 2
)
if MESSAGING_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # Otherwise the sweeper could hand messages a live worker is still sending to a
    # second worker, and both would send them.
    raise ImproperlyConfigured(
        f"MESSAGING_LEASE_SECONDS ({MESSAGING_LEASE_SECONDS}) must be longer than the "
        f"send task's time limit ({CELERY_TASK_TIME_LIMIT} s)."
    )

# --- Recipients (read and explained in config.recipients) -----------------------
ADDRESS_HASH_KEY = recipients.address_hash_key(SECRET_KEY)
SOFT_BOUNCE_LIMIT = recipients.SOFT_BOUNCE_LIMIT
SOFT_BOUNCE_DAYS = recipients.SOFT_BOUNCE_DAYS
UNSUBSCRIBE_LINK_DAYS = recipients.UNSUBSCRIBE_LINK_DAYS

# --- Event stream (read and explained in config.event_stream) --------------------
STREAM_GIVE_UP_HOURS = event_stream.STREAM_GIVE_UP_HOURS
STREAM_MAX_PAUSE_SECONDS = event_stream.STREAM_MAX_PAUSE_SECONDS
STREAM_HTTP_TIMEOUT = event_stream.STREAM_HTTP_TIMEOUT
STREAM_MAX_IN_FLIGHT = event_stream.STREAM_MAX_IN_FLIGHT
STREAM_RETENTION_DAYS = event_stream.STREAM_RETENTION_DAYS
STREAM_SECRET_OVERLAP_HOURS = event_stream.STREAM_SECRET_OVERLAP_HOURS

# --- Audiences ---------------------------------------------------------------------
# Numbers written without a leading + are read as numbers of this country.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "MX")

# Processes that check an import's rows; 0 lets each import decide from its first
# rows (more processes only pay when numbers are not already written +E.164).
IMPORT_WORKERS = env_int("IMPORT_WORKERS", 0)
# A running import that has not moved on for this long has lost its worker (killed,
# or its task lost by the broker): a beat task queues it again or ends it failed
# (audiences.importing.sweep). Longer than a task may run, so that a live worker is
# never taken for lost.
IMPORT_STALLED_SECONDS = env_int("IMPORT_STALLED_SECONDS", CELERY_TASK_TIME_LIMIT + 60)
if IMPORT_STALLED_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"IMPORT_STALLED_SECONDS ({IMPORT_STALLED_SECONDS}) must be longer than a "
        f"task's time limit ({CELERY_TASK_TIME_LIMIT} s)."
    )

# What one contact file may cost; a file over a limit is refused before anything is
# written, with a message that names the limit (README, "Import limits").
# The upload itself, in bytes (checked while it streams in).
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 1 << 30)
# A spreadsheet's parts once inflated (XLSX and ODS are zip archives), in bytes,
# checked from the archive's directory before anything is inflated.
IMPORT_MAX_INFLATED_BYTES = env_int("IMPORT_MAX_INFLATED_BYTES", 2 << 30)
# Data rows (not counting the header), columns, and characters in one cell.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 10_000_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 200)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 10_000)

# --- Campaigns ---------------------------------------------------------------------
# A running run with messages due that has sent nothing for this many minutes is
# flagged as not moving (campaigns.stalls): on the dashboard, its campaign's page, and
# in a mail to FLOWCAST_ALERT_EMAILS.
CAMPAIGNS_STALL_MINUTES = env_int("CAMPAIGNS_STALL_MINUTES", 10)
if CAMPAIGNS_STALL_MINUTES < 1:
    raise ImproperlyConfigured(
        f"CAMPAIGNS_STALL_MINUTES must be at least 1, got {CAMPAIGNS_STALL_MINUTES}."
    )
# Who is mailed (through EMAIL_HOST, from DEFAULT_FROM_EMAIL) when a run stops moving
# and when it moves again, comma-separated; empty: nobody is mailed.
FLOWCAST_ALERT_EMAILS = env_list("FLOWCAST_ALERT_EMAILS", [])

# --- import-export -----------------------------------------------------------------
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_USE_TRANSACTIONS = True

# --- Logging (config.log_setup) -----------------------------------------------------
LOG_LEVEL = log_setup.LOG_LEVEL
LOGGING = log_setup.LOGGING
